"""Vector tiles of layers other than the threat layer (whose tiles live with it in threat/)."""
