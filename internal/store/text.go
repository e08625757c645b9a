package store

import (
	"strings"
	"unicode/utf8"
)

// validText returns s as PostgreSQL's text takes it: s itself when it is valid
// UTF-8 without NUL, which is nearly always; otherwise s with each byte that
// is not part of valid UTF-8, and each NUL, written as the four characters
// \xNN (lowercase hex). Text from the wire (caller IDs, DNIDs, channel names,
// menu keys passed by the dialplan) may carry any byte Asterisk got in a SIP
// header; escaped, the call is journaled as any other and the bytes can still
// be read back from the stored value.
func validText(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || r == 0 {
			b.WriteString(`\x`)
			b.WriteByte(hex[s[i]>>4])
			b.WriteByte(hex[s[i]&0xf])
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
