package agi

import "testing"

func TestMaskReply(t *testing.T) {
	for _, tt := range []struct {
		line string
		key  bool
		want string
	}{
		{"200 result=1234", false, "200 result=***"},
		{"200 result=0", false, "200 result=***"}, // the caller typed 0
		{"200 result=*9", false, "200 result=***"},
		{"200 result=12 (timeout)", false, "200 result=*** (timeout)"},
		{"200 result= (timeout)", false, "200 result= (timeout)"},
		{"200 result=", false, "200 result="},
		{"200 result=-1", false, "200 result=-1"},
		{"511 Command Not Permitted on a dead channel or intercept routine", false, "511 Command Not Permitted on a dead channel or intercept routine"},
		{"200 result=53 endpos=17760", true, "200 result=*** endpos=17760"},
		{"200 result=0 endpos=16000", true, "200 result=0 endpos=16000"}, // no key
		{"200 result=-1 endpos=0", true, "200 result=-1 endpos=0"},
	} {
		if got := maskReply(tt.line, tt.key); got != tt.want {
			t.Errorf("maskReply(%q, key %v) = %q, want %q", tt.line, tt.key, got, tt.want)
		}
	}
}
