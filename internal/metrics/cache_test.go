package metrics_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ivrhq/ivr/internal/metrics"
)

func TestCallerCacheStatsAreReadOnScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := metrics.CacheStats{Hits: 90, Misses: 8, Bypassed: 2, Invalidations: 3, Entries: 7, Listening: true}
	metrics.RegisterCallerCache(reg, func() metrics.CacheStats { return s })
	want := `
# HELP ivr_caller_cache_hits_total Caller lookups answered from memory.
# TYPE ivr_caller_cache_hits_total counter
ivr_caller_cache_hits_total 90
# HELP ivr_caller_cache_bypassed_total Caller lookups that read the database because the cache was not listening for changes.
# TYPE ivr_caller_cache_bypassed_total counter
ivr_caller_cache_bypassed_total 2
# HELP ivr_caller_cache_entries Phone numbers kept, unknown ones included.
# TYPE ivr_caller_cache_entries gauge
ivr_caller_cache_entries 7
# HELP ivr_caller_cache_listening 1 while the cache listens for changes and is in use, 0 while every lookup reads the database.
# TYPE ivr_caller_cache_listening gauge
ivr_caller_cache_listening 1
`
	names := []string{"ivr_caller_cache_hits_total", "ivr_caller_cache_bypassed_total", "ivr_caller_cache_entries", "ivr_caller_cache_listening"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	s.Listening = false
	if err := testutil.GatherAndCompare(reg, strings.NewReader(strings.Replace(want, "\nivr_caller_cache_listening 1", "\nivr_caller_cache_listening 0", 1)), names...); err != nil {
		t.Errorf("after the listener is lost: %v", err)
	}
}

func TestCatalogCacheStatsAreReadOnScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := metrics.CacheStats{Hits: 40, Misses: 3, Bypassed: 1, Invalidations: 2, Evictions: 5, Entries: 4}
	metrics.RegisterCatalogCache(reg, func() metrics.CacheStats { return s })
	want := `
# HELP ivr_catalog_cache_hits_total Reads of live menus and surveys answered from memory.
# TYPE ivr_catalog_cache_hits_total counter
ivr_catalog_cache_hits_total 40
# HELP ivr_catalog_cache_invalidations_total Notifications of changes to menus and surveys received.
# TYPE ivr_catalog_cache_invalidations_total counter
ivr_catalog_cache_invalidations_total 2
# HELP ivr_catalog_cache_evictions_total Entries dropped to make room.
# TYPE ivr_catalog_cache_evictions_total counter
ivr_catalog_cache_evictions_total 5
# HELP ivr_catalog_cache_entries Menu and survey keys kept, unknown ones included.
# TYPE ivr_catalog_cache_entries gauge
ivr_catalog_cache_entries 4
# HELP ivr_catalog_cache_listening 1 while the cache listens for changes and is in use, 0 while every read goes to the database.
# TYPE ivr_catalog_cache_listening gauge
ivr_catalog_cache_listening 0
`
	names := []string{"ivr_catalog_cache_hits_total", "ivr_catalog_cache_invalidations_total", "ivr_catalog_cache_evictions_total",
		"ivr_catalog_cache_entries", "ivr_catalog_cache_listening"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	// Both caches' metrics live on one registry.
	metrics.RegisterCallerCache(reg, func() metrics.CacheStats { return metrics.CacheStats{} })
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 14 {
		t.Errorf("%d metrics, %v; want 7 of each cache", n, err)
	}
}
