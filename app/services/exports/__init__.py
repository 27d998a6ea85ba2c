"""Files for people and partner systems: CSV and GeoPackage for analysts, HXL-hashtagged CSV of
the sanitised threat layer for humanitarian partners. Large exports stream (docs/exports.md)."""
