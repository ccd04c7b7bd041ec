package clusterres

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/incus"
)

// Absent deletes the resource from every member, refusing while anything
// (instances, profiles, volumes, other networks) uses it.
func (r *Run) Absent(ctx context.Context, name string) error {
	cur, found, err := r.Server.API.Get(ctx, name, "")
	if err != nil || !found {
		return err
	}
	if err := r.checkManaged(name, cur); err != nil {
		return err
	}
	r.Status = cur.Status
	if len(cur.UsedBy) > 0 {
		users := Users(cur.UsedBy)
		return fmt.Errorf("%s %s is still used by %s: remove those or move them to another %s first; nothing was changed: %w",
			r.Kind.Noun, name, strings.Join(users, ", "), r.Kind.Noun, incus.ErrConflict)
	}
	old := map[string]any{r.Kind.TypeParam: cur.Type, "config": cur.Config, "description": cur.Description, "status": cur.Status}
	err = r.Step(Change{Key: r.Kind.Key, Old: old, New: nil}, func() error {
		r.progress("deleting %s %s", r.Kind.Noun, name)
		return r.Server.API.Delete(ctx, name)
	})
	if err != nil {
		return err
	}
	if !r.Test {
		r.Status = ""
	}
	return nil
}

// Users renders Incus's used_by URLs for people:
// "/1.0/instances/web-1?project=demo" -> "instance web-1 (project demo)".
func Users(usedBy []string) []string {
	out := make([]string, 0, len(usedBy))
	for _, raw := range usedBy {
		u, err := url.Parse(raw)
		if err != nil {
			out = append(out, raw)
			continue
		}
		parts := strings.Split(strings.TrimPrefix(u.Path, "/1.0/"), "/")
		what := strings.Join(parts, "/")
		switch {
		case len(parts) == 2:
			what = strings.TrimSuffix(parts[0], "s") + " " + parts[1]
		case len(parts) >= 4 && parts[0] == "storage-pools" && parts[2] == "volumes":
			what = "volume " + strings.Join(parts[3:], "/")
		}
		var where []string
		if p := u.Query().Get("project"); p != "" {
			where = append(where, "project "+p)
		}
		if t := u.Query().Get("target"); t != "" {
			where = append(where, "member "+t)
		}
		if len(where) > 0 {
			what += " (" + strings.Join(where, ", ") + ")"
		}
		out = append(out, what)
	}
	return out
}
