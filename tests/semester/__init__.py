"""The semester simulation's judge: an oracle of a term's classes written apart from ``api/``, and its checks."""
