"""Building, offline: settings -> template text (render) and the handler and layer zips (packaging). No AWS."""
