//go:build asterisk

package livetest

import (
	"errors"
	"sync"
)

// The callers of the suite. Each test that changes a caller (PIN failures,
// a new PIN, messages) has one of its own, so the tests run in parallel.
var (
	cLookup   = caller{"2001", "Alice Lookup", "+15555550101", "7391"}
	cNational = caller{"2002", "Nora National", "+15555550102", "4826"}
	cOperator = caller{"2003", "Oscar Operator", "+15555550103", "5937"}
	cLock     = caller{"2004", "Lena Locked", "+15555550104", "6048"}
	cQueued   = caller{"2005", "Quinn Queued", "+15555550105", "7159"}
	cAccount  = caller{"2006", "Uma Nonumber", "", "8260"}
	cSubmenu  = caller{"2007", "Sam Sales", "+15555550107", "9371"}
	cGoodbye  = caller{"2008", "Gus Goodbye", "+15555550108", "1482"}
	cRecord   = caller{"2009", "Rita Record", "+15555550109", "2593"}
	cSurvey   = caller{"2010", "Sue Survey", "+15555550110", "3604"}
	cPIN      = caller{"2011", "Pete Pin", "+15555550111", "4715"}
	cRepeat   = caller{"2012", "Rae Repeat", "+15555550112", "5826"}
	cHangup   = caller{"2013", "Hal Hangup", "+15555550113", "6937"}
	cDrain    = caller{"2014", "Dora Drain", "+15555550114", "7048"}
	cCut      = caller{"2015", "Carl Cut", "+15555550115", "8159"}
	cKilled   = caller{"2016", "Kim Killed", "+15555550116", "9260"}
	cNumbers  = caller{"2017", "Nina Numbers", "+15555550117", "3715"}

	// cDown is a caller of the database the dbdown server uses.
	cDown = caller{"2101", "Dan Down", "+15555550121", "9260"}
)

// newPIN is the PIN cPIN changes to.
const newPIN = "5831"

// addCallers adds the callers with `ivr callers add`, four at a time.
func addCallers(st *suite) error {
	type job struct {
		d *database
		c caller
	}
	jobs := []job{{st.dbDown, cDown}}
	for _, c := range []caller{cLookup, cNational, cOperator, cLock, cQueued, cAccount, cSubmenu,
		cGoodbye, cRecord, cSurvey, cPIN, cRepeat, cHangup, cDrain, cCut, cKilled, cNumbers} {
		jobs = append(jobs, job{st.db, c})
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, 4)
	)
	for _, j := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := j.d.addCaller(st.bin, j.c); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
