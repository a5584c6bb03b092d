package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// validIdentifier reports whether s can name something (a user, a
// customer, a payment): 1 to max characters of valid UTF-8, not only
// whitespace, and free of control, format and line-separator characters.
// Such characters make two identifiers look alike in logs, mongosh and
// dashboards while being different keys (U+202E reverses what follows,
// U+200B is invisible), and NUL truncates them in C-based tools.
func validIdentifier(s string, max int) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			return false
		}
	}
	return strings.TrimFunc(s, unicode.IsSpace) != ""
}

// validFreeText reports whether s is acceptable free text, as in metadata
// values: valid UTF-8 whose only control characters are tab and newline (a
// note or an address may span lines), without the bidirectional controls
// that make text display differently from what it is ("Trojan Source").
// Other format characters stay allowed: the zero-width joiner builds emoji
// sequences, for one.
func validFreeText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if (unicode.IsControl(r) && r != '\t' && r != '\n') || unicode.Is(unicode.Bidi_Control, r) {
			return false
		}
	}
	return true
}
