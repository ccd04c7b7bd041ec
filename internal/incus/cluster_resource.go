package incus

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
)

// Storage pools and managed networks share one REST shape in Incus: a
// collection under /1.0, a per-member pending definition (POST with
// ?target=), a cluster-wide create (POST without target), PATCH for config
// and description, DELETE, and a `used_by` list. ResourceAPI speaks that
// shape once; pool_resource.go and network_resource.go pick the collection.

// ResourceRecord is one storage pool or network as Incus reports it. Type
// is the pool's driver or the network's type. With a target member, Config
// holds that member's member-specific keys too and Status is the state on
// that member (Incus answers with the member's local status).
type ResourceRecord struct {
	Name        string            `json:"name"`
	Type        string            `json:"-"`
	Description string            `json:"description"`
	Config      map[string]string `json:"config"`
	Status      string            `json:"status"`
	Locations   []string          `json:"locations"`
	UsedBy      []string          `json:"used_by"`
	Managed     *bool             `json:"managed,omitempty"` // networks only
}

// ResourceAPI reaches one collection (storage pools, or the networks of a
// project) through the call seam of raw.go.
type ResourceAPI struct {
	c         *Client
	base      string // "/storage-pools" or "/networks"
	typeField string // "driver" or "type"
	project   string // networks only
	Noun      string // "storage pool" or "network", for messages
}

func (a *ResourceAPI) scope(target string) Scope {
	return Scope{Project: a.project, Target: target}
}

func (a *ResourceAPI) path(name string) string { return a.base + "/" + url.PathEscape(name) }

// wireRecord decodes both collections: pools name their kind "driver",
// networks "type".
type wireRecord struct {
	ResourceRecord
	Driver  string `json:"driver"`
	NetType string `json:"type"`
}

func (w wireRecord) record() ResourceRecord {
	r := w.ResourceRecord
	r.Type = w.Driver
	if r.Type == "" {
		r.Type = w.NetType
	}
	if r.Config == nil {
		r.Config = map[string]string{}
	}
	sort.Strings(r.Locations)
	sort.Strings(r.UsedBy)
	return r
}

// Get reads one resource, on target when given; found is false when it does
// not exist.
func (a *ResourceAPI) Get(ctx context.Context, name, target string) (ResourceRecord, bool, error) {
	var w wireRecord
	if _, err := a.c.call(ctx, "GET", a.path(name), a.scope(target), nil, &w); err != nil {
		if errors.Is(err, ErrNotFound) {
			return ResourceRecord{}, false, nil
		}
		return ResourceRecord{}, false, err
	}
	return w.record(), true, nil
}

// createBody is the POST body of both collections.
func (a *ResourceAPI) createBody(name, typ, description string, cfg map[string]string) map[string]any {
	body := map[string]any{"name": name, a.typeField: typ, "config": nonNil(cfg)}
	if description != "" {
		body["description"] = description
	}
	return body
}

// CreatePending records the definition on one member (phase one of a
// cluster create): only that member's member-specific keys are allowed.
func (a *ResourceAPI) CreatePending(ctx context.Context, name, typ, target string, cfg map[string]string) error {
	_, err := a.c.call(ctx, "POST", a.base, a.scope(target), a.createBody(name, typ, "", cfg), nil)
	if err != nil {
		return fmt.Errorf("define %s %s on member %s: %w", a.Noun, name, target, err)
	}
	return nil
}

// Create is the cluster-wide create (phase two), or the only create of a
// standalone server or of a type without member-specific config.
func (a *ResourceAPI) Create(ctx context.Context, name, typ, description string, cfg map[string]string) error {
	_, err := a.c.call(ctx, "POST", a.base, a.scope(""), a.createBody(name, typ, description, cfg), nil)
	if err != nil {
		return fmt.Errorf("create %s %s: %w", a.Noun, name, err)
	}
	return nil
}

// Update merges config keys (PATCH) on target ("" = the cluster-wide keys)
// and sets the description when it is non-nil.
func (a *ResourceAPI) Update(ctx context.Context, name, target string, cfg map[string]string, description *string) error {
	body := map[string]any{"config": nonNil(cfg)}
	if description != nil {
		body["description"] = *description
	}
	_, err := a.c.call(ctx, "PATCH", a.path(name), a.scope(target), body, nil)
	if err != nil {
		where := ""
		if target != "" {
			where = " on member " + target
		}
		return fmt.Errorf("update %s %s%s: %w", a.Noun, name, where, err)
	}
	return nil
}

// Delete removes the resource from every member.
func (a *ResourceAPI) Delete(ctx context.Context, name string) error {
	if _, err := a.c.call(ctx, "DELETE", a.path(name), a.scope(""), nil, nil); err != nil {
		return fmt.Errorf("delete %s %s: %w", a.Noun, name, err)
	}
	return nil
}

// List reads the whole collection (managed networks only for networks).
func (a *ResourceAPI) List(ctx context.Context) ([]ResourceRecord, error) {
	var raw []wireRecord
	if _, err := a.c.call(ctx, "GET", a.base, Scope{Project: a.project, Query: url.Values{"recursion": {"1"}}}, nil, &raw); err != nil {
		return nil, fmt.Errorf("list %ss: %w", a.Noun, err)
	}
	out := make([]ResourceRecord, 0, len(raw))
	for _, w := range raw {
		if w.Managed != nil && !*w.Managed {
			continue // a host interface Incus merely reports
		}
		out = append(out, w.record())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
