"""Cursor-on-Target (CoT 2.0) for TAK clients: warnings and high/critical hotspot cells."""
