"""Reporter protection (issue 11): community reporters' contacts (`alert.reporter_contact`, and
the copy in `report.reporter_ref`) are encrypted at rest (`crypto`), recognised by a keyed hash
(SMS repeat collapse), shown only through an audited reveal, decrypted otherwise only to send an
acknowledgement through the integration (`acknowledge`), never put in listings, logs, exports or
briefs, and blanked after `KINGA_REPORTER_CONTACT_TTL_DAYS` by the scheduler (`retention`)."""
