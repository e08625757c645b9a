// Package phone normalises the caller IDs Asterisk reports to E.164.
//
// Asterisk hands over agi_callerid as the calling party's number in whatever
// form the trunk delivered it: national ("0612345678"), international with "+"
// or with the default region's international call prefix ("0031612345678" in
// the Netherlands, "011 31 612345678" in the United States), or one of the
// placeholders that mean "no number" ("unknown", "anonymous", "withheld",
// "restricted", "private", empty). Normalize turns the first kind into E.164
// ("+31612345678") and reports the second kind as anonymous.
package phone

import (
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// anonymous holds the lower-cased caller IDs that mean the number is absent or
// withheld.
var anonymous = map[string]bool{
	"":            true,
	"unknown":     true,
	"anonymous":   true,
	"withheld":    true,
	"restricted":  true,
	"private":     true,
	"unavailable": true,
	"blocked":     true,
	"null":        true,
}

// Normalize returns raw in E.164 form ("+" and digits). A number without a
// country code is read as a number of defaultRegion (an ISO 3166 code such as
// "US" or "NL"; empty means only international numbers with "+" are accepted).
// A number dialled with the region's international call prefix ("00" in most of
// Europe, "011" in North America) is read as international, as libphonenumber
// knows each region's prefix. ok is false when raw is empty, withheld or
// anonymous ("unknown", "anonymous", "withheld", "restricted", "private" ...)
// or cannot be parsed as a possible phone number; e164 is then "".
func Normalize(raw, defaultRegion string) (e164 string, ok bool) {
	s := strings.TrimSpace(raw)
	if anonymous[strings.ToLower(s)] {
		return "", false
	}
	region := strings.ToUpper(defaultRegion)
	if region == "" {
		region = "ZZ"
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", false
	}
	if !phonenumbers.IsPossibleNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// CheckRegion returns an error unless region is an ISO 3166 code that
// libphonenumber has numbering data for ("US", "nl"); the error names the
// value. Normalize would read no national number of any other region.
func CheckRegion(region string) error {
	if !phonenumbers.GetSupportedRegions()[strings.ToUpper(region)] {
		return fmt.Errorf("region %q is not a country or territory code with phone numbering data (such as US, GB, NL)", region)
	}
	return nil
}
