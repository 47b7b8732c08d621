"""Vietnamese language and web vocabulary: text (NFC, folding for tone-insensitive matching, mojibake),
dates (the one Asia/Ho_Chi_Minh timezone, VN_TZ, and the date vocabulary) and URLs (canonical form, ids).

Owns: the rules every stage shares. May import: feed.records only.
"""
