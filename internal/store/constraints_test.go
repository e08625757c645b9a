package store_test

import (
	"context"
	"testing"

	"github.com/ivrhq/ivr/internal/store"
)

// TestEveryConstraintHasWords walks the constraints of the tables operators
// write, as the migrated schema has them: each one has a field and a problem
// an operator can act on, so a new constraint without words fails here.
func TestEveryConstraintHasWords(t *testing.T) {
	t.Parallel()
	db := open(t)
	rows, err := db.Pool().Query(context.Background(), `
		SELECT c.conname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
		WHERE t.relname IN ('callers', 'caller_phones', 'menus', 'menu_versions', 'menu_options',
		                    'surveys', 'survey_versions', 'survey_questions', 'numbers', 'schedules')
		  AND t.relnamespace = 'public'::regnamespace
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) < 40 {
		t.Fatalf("found only %d constraints: %v", len(names), names)
	}
	for _, n := range names {
		r, ok := store.RefusalOf(n)
		if !ok || r.Field == "" || r.Problem == "" {
			t.Errorf("constraint %s has no words for an operator (add it to refusals in constraints.go)", n)
		}
	}
	for _, n := range []string{"callers_account_not_null", "caller_phones_e164_not_null"} {
		if r, ok := store.RefusalOf(n); !ok || r.Problem != "must be given" {
			t.Errorf("RefusalOf(%s) = %+v, %v", n, r, ok)
		}
	}
}
