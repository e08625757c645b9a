package phone_test

import (
	"testing"

	"github.com/ivrhq/ivr/internal/phone"
)

// A region libphonenumber has no data for is refused, so a typo in the setting
// does not turn every national number into an unknown caller.
func TestCheckRegion(t *testing.T) {
	for _, r := range []string{"US", "nl", "GB"} {
		if err := phone.CheckRegion(r); err != nil {
			t.Errorf("CheckRegion(%q) = %v", r, err)
		}
	}
	for _, r := range []string{"ZZ", "", "USA", "XX"} {
		if err := phone.CheckRegion(r); err == nil {
			t.Errorf("CheckRegion(%q) accepted it", r)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		raw, region string
		want        string
		ok          bool
	}{
		{"+14155550123", "US", "+14155550123", true},
		{"4155550123", "US", "+14155550123", true},
		{"(415) 555-0123", "US", "+14155550123", true},
		{"14155550123", "US", "+14155550123", true},
		{"0612345678", "NL", "+31612345678", true},
		{"0031612345678", "NL", "+31612345678", true},
		// The international call prefix is the region's: 011 in the United
		// States, 00 in Germany and France.
		{"011 49 30 12345678", "US", "+493012345678", true},
		{"01133123456789", "US", "+33123456789", true},
		{"+493012345678", "US", "+493012345678", true},
		{"030 12345678", "DE", "+493012345678", true},
		{"004930 12345678", "DE", "+493012345678", true},
		{"0014155550123", "DE", "+14155550123", true},
		{"+14155550123", "DE", "+14155550123", true},
		{"01 23 45 67 89", "FR", "+33123456789", true},
		{"0033123456789", "FR", "+33123456789", true},
		{"0014155550123", "FR", "+14155550123", true},
		// 00 is no international prefix in the United States, and without a
		// region no prefix is known.
		{"0031612345678", "US", "", false},
		{"0031612345678", "", "", false},
		{"+31612345678", "US", "+31612345678", true},
		{"+31612345678", "", "+31612345678", true},
		{"0612345678", "", "", false},
		{"", "US", "", false},
		{"unknown", "US", "", false},
		{"Unknown", "US", "", false},
		{"anonymous", "US", "", false},
		{"withheld", "GB", "", false},
		{"restricted", "US", "", false},
		{"private", "US", "", false},
		{"  ", "US", "", false},
		{"abc", "US", "", false},
		{"12", "US", "", false},
	}
	for _, tt := range tests {
		got, ok := phone.Normalize(tt.raw, tt.region)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Normalize(%q, %q) = %q, %v; want %q, %v", tt.raw, tt.region, got, ok, tt.want, tt.ok)
		}
	}
}
