package testdb

import "testing"

func TestConfigFromURL(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"postgres://ivr:s3cr%40t@db.example:5433/ivr?sslmode=disable",
			"postgres://ivr:s3cr%40t@db.example:5433/ivr?sslmode=disable"},
		{"postgres://postgres@/postgres?host=/tmp/pg&port=5432&sslmode=disable",
			"postgres://postgres:@localhost:5432/postgres?host=%2Ftmp%2Fpg&sslmode=disable"},
		{"host=::1 port=5432 user=u password=p dbname=d sslmode=disable",
			"postgres://u:p@[::1]:5432/d?sslmode=disable"},
	} {
		c, err := configFromURL(tc.in)
		if err != nil {
			t.Errorf("configFromURL(%q): %v", tc.in, err)
			continue
		}
		if got := c.URL(); got != tc.want {
			t.Errorf("configFromURL(%q).URL() = %q, want %q", tc.in, got, tc.want)
		}
	}
}
