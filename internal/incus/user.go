package incus

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// runAsKey carries a Compose user: that names an account ("postgres",
// "app:staff") on the instance until it is resolved inside it.
const runAsKey = "user.fleet.run_as"

// applyUserName resolves a user: given by name to the ids the image's own
// /etc/passwd and /etc/group give it, as Docker does, once the instance is
// created and before its first process starts, and sets them as that
// process's uid/gid (lxc.init.uid/gid). Nothing to do without a name.
func (c *Client) applyUserName(ctx context.Context, stack, instance string, cfg map[string]string) error {
	spec := cfg[runAsKey]
	if spec == "" {
		return nil
	}
	read := func(path string) (string, error) {
		data, err := c.readInstanceFile(ctx, stack, instance, path)
		if errors.Is(err, ErrNotFound) {
			return "", nil // an image without the file has no names
		}
		return string(data), err
	}
	passwd, err := read("/etc/passwd")
	if err != nil {
		return err
	}
	group, err := read("/etc/group")
	if err != nil {
		return err
	}
	uid, gid, err := resolveUser(spec, passwd, group)
	if err != nil {
		return &RunError{fmt.Errorf("service %q: user %q: %v in the image %s; name a user the image has, or give numeric ids (uid:gid): %w",
			cfg[model.KeyService], spec, err, cfg[KeyImage], ErrNotFound)}
	}
	lines := []string{fmt.Sprintf("lxc.init.uid = %d", uid), fmt.Sprintf("lxc.init.gid = %d", gid)}
	if raw := cfg["raw.lxc"]; raw != "" {
		lines = append(strings.Split(raw, "\n"), lines...)
	}
	patch := instanceConfigPatch{Config: map[string]string{"raw.lxc": rawLXC(lines)}}
	_, err = c.call(ctx, "PATCH", "/instances/"+url.PathEscape(instance), Scope{Project: stack}, patch, nil)
	return classify(err, "set the user of %s", instance)
}

// resolveUser reads "user[:group]" (each a name or a number) against an
// image's passwd and group files the way Docker does: a user's group is its
// primary group unless one is given; a number needs no entry.
func resolveUser(spec, passwd, group string) (uid, gid int64, err error) {
	u, g, hasGroup := strings.Cut(spec, ":")
	primary := int64(0)
	if n, ok := idNumber(u); ok {
		uid = n
		if e, found := lookupDB(passwd, func(f []string) bool { return f[2] == u }); found {
			primary, _ = idNumber(e[3])
		}
	} else {
		e, found := lookupDB(passwd, func(f []string) bool { return f[0] == u })
		if !found {
			return 0, 0, fmt.Errorf("there is no user %q in /etc/passwd", u)
		}
		var ok1, ok2 bool
		uid, ok1 = idNumber(e[2])
		primary, ok2 = idNumber(e[3])
		if !ok1 || !ok2 {
			return 0, 0, fmt.Errorf("the /etc/passwd entry of %q has no numeric ids", u)
		}
	}
	if !hasGroup {
		return uid, primary, nil
	}
	if n, ok := idNumber(g); ok {
		return uid, n, nil
	}
	e, found := lookupDB(group, func(f []string) bool { return f[0] == g })
	if !found {
		return 0, 0, fmt.Errorf("there is no group %q in /etc/group", g)
	}
	if gid, ok := idNumber(e[2]); ok {
		return uid, gid, nil
	}
	return 0, 0, fmt.Errorf("the /etc/group entry of %q has no numeric id", g)
}

// lookupDB finds the first colon-separated entry (at least four fields)
// of an /etc/passwd or /etc/group text that match accepts.
func lookupDB(text string, match func([]string) bool) ([]string, bool) {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 4 {
			continue
		}
		if match(f) {
			return f, true
		}
	}
	return nil, false
}

func idNumber(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0 && n <= 1<<32-2
}
