"""Generated situation briefs: from the data alone, a dated brief per mission and field office,
as JSON, HTML (print stylesheet) and PDF, in a full and a partner edition (docs/briefs.md)."""
