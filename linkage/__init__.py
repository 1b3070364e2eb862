"""HoSo's record linkage: source readers, Vietnamese standardisation, the Splink model, persons."""
