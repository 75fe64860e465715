"""Domain packs, one folder each (see ``core.domain_pack``); this package holds data only."""
