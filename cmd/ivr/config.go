package main

//go:generate go test -run ^TestConfigReference$ . -args -update

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// prefixList is a comma-separated list of networks ("10.0.0.0/8,::1"); a bare
// address means that one host.
type prefixList []netip.Prefix

func (p *prefixList) Set(s string) error {
	var out []netip.Prefix
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if pr, err := netip.ParsePrefix(f); err == nil {
			out = append(out, pr.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return fmt.Errorf("%q is neither a network nor an address", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	*p = out
	return nil
}

// loopback is the default of -allow: this host only.
func loopback() prefixList {
	return prefixList{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

func (p *prefixList) String() string {
	s := make([]string, len(*p))
	for i, pr := range *p {
		s[i] = pr.String()
	}
	return strings.Join(s, ",")
}

// withPassword returns the database URL dsn with its password replaced by pw.
// Both URL (postgres://...) and keyword/value ("host=... user=...") forms work.
func withPassword(dsn, pw string) (string, error) {
	if pw == "" {
		return dsn, nil
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", errors.New("database URL is not a valid URL")
		}
		name := ""
		if u.User != nil {
			name = u.User.Username()
		}
		u.User = url.UserPassword(name, pw)
		return u.String(), nil
	}
	q := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw)
	return strings.TrimSpace(dsn) + " password='" + q + "'", nil
}
