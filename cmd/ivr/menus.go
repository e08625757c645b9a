package main

import (
	"context"

	"github.com/ivrhq/ivr/internal/catalog"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
)

// menuKind is the menus command's view of ivr.Menu.
func menuKind() *catalogKind[ivr.Menu] {
	return &catalogKind[ivr.Menu]{
		noun:   "menu",
		plural: "menus",
		info: func(m ivr.Menu) version {
			return version{id: m.VersionID, key: m.Key, number: m.Version, published: m.Published, created: m.CreatedAt}
		},
		parse:   catalog.ParseMenus,
		marshal: catalog.MarshalMenus,
		diff:    catalog.DiffMenus,
		fields:  catalog.MenuFields,
		unpublished: func(m ivr.Menu, menus, surveys map[string]bool) []string {
			var missing []string
			for _, o := range m.Options {
				for _, b := range []ivr.Branch{o.Hours.Closed, o.Hours.Holiday} {
					if b.Kind == ivr.BranchMenu && !menus[b.Target] {
						missing = append(missing, "menu "+b.Target)
					}
				}
				switch t := o.Action.Target; o.Action.Kind {
				case ivr.ActionSubmenu:
					if !menus[t] {
						missing = append(missing, "menu "+t)
					}
				case ivr.ActionSurvey:
					if !surveys[t] {
						missing = append(missing, "survey "+t)
					}
				}
			}
			return missing
		},
		entries:  (*store.DB).MenuEntries,
		get:      (*store.DB).MenuVersion,
		latest:   (*store.DB).LatestMenuVersion,
		versions: (*store.DB).MenuVersions,
		save:     (*store.DB).SaveMenus,
	}
}

func runMenus(ctx context.Context, e *env, args []string) error { return menuKind().run(ctx, e, args) }
