"""Manufacturing: master batch records, electronic batch records, units, genealogy."""
