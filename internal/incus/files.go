package incus

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"regexp"
	"strconv"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// pushFiles copies a service's support files into an instance that was
// created but not started, so the service finds them from its first
// instruction, on whichever member the instance landed. Incus forwards the
// file API to the member that holds the instance.
//
// Each file API request is a chance for Incus 6.0's helper race (see
// retryForkfile), so the usual case takes two: the target's parent
// directories are created only when the write says one is missing.
func (c *Client) pushFiles(ctx context.Context, stack, instance string, files []model.File) error {
	made := map[string]bool{}
	for _, f := range files {
		// Incus applies mode and owner only when it creates a file, so an
		// image's own copy is removed first; a missing one is the usual case.
		_ = c.deleteFile(ctx, stack, instance, f.Target)
		meta := fileMeta{kind: "file", mode: os.FileMode(f.Mode), uid: f.UID, gid: f.GID}
		err := c.writeFile(ctx, stack, instance, f.Target, meta, f.Content)
		if isNotFound(err) { // a parent directory is missing in the image
			if err = c.makeParents(ctx, stack, instance, f, made); err != nil {
				return err
			}
			err = c.writeFile(ctx, stack, instance, f.Target, meta, f.Content)
		}
		if err != nil {
			return classify(err, "copy %s to %s in %s", f.Source, f.Target, instance)
		}
	}
	return nil
}

// makeParents creates the directories above a file's target, outermost
// first; an existing one is left as it is (Incus answers success).
func (c *Client) makeParents(ctx context.Context, stack, instance string, f model.File, made map[string]bool) error {
	for _, dir := range parentDirs(f.Target) {
		if made[dir] {
			continue
		}
		if err := c.writeFile(ctx, stack, instance, dir, fileMeta{kind: "directory", mode: 0o755}, nil); err != nil {
			return classify(err, "create directory %s in %s for %s", dir, instance, f.Source)
		}
		made[dir] = true
	}
	return nil
}

// fileMeta is what the X-Incus-* headers of the file API carry.
type fileMeta struct {
	kind     string // file or directory
	mode     os.FileMode
	uid, gid int64
}

func filePath(instance string) string {
	return "/instances/" + url.PathEscape(instance) + "/files"
}

// writeFile is POST /1.0/instances/{name}/files?path=…: the content is the
// raw body, its type, mode and owner travel in headers.
func (c *Client) writeFile(ctx context.Context, stack, instance, target string, m fileMeta, content []byte) error {
	h := http.Header{
		"X-Incus-Type":  {m.kind},
		"X-Incus-Mode":  {fmt.Sprintf("%04o", m.mode.Perm())},
		"X-Incus-Uid":   {strconv.FormatInt(m.uid, 10)},
		"X-Incus-Gid":   {strconv.FormatInt(m.gid, 10)},
		"X-Incus-Write": {"overwrite"},
	}
	s := Scope{Project: stack, Query: url.Values{"path": {target}}}
	return retryForkfile(ctx, func() error {
		// Each attempt, the forkfile retry's too, checks the lock first.
		if err := c.guard(ctx); err != nil {
			return err
		}
		_, _, err := c.t.do(ctx, request{method: http.MethodPost, path: "/1.0" + pathWithScope(filePath(instance), s),
			body: bytes.NewReader(content), header: h})
		return err
	})
}

func (c *Client) deleteFile(ctx context.Context, stack, instance, target string) error {
	s := Scope{Project: stack, Query: url.Values{"path": {target}}}
	return retryForkfile(ctx, func() error {
		_, err := c.call(ctx, http.MethodDelete, filePath(instance), s, nil, nil)
		return err
	})
}

// parentDirs lists the directories above an absolute path, outermost
// first: /etc/nginx/nginx.conf → /etc, /etc/nginx.
func parentDirs(target string) []string {
	var out []string
	dir := path.Dir(target)
	for dir != "/" && dir != "." {
		out = append(out, dir)
		dir = path.Dir(dir)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// retryForkfile retries a file API request that failed because Incus's file
// helper for the instance went away under it ("forkfile.sock: no such
// file"). Incus 6.0 removes helper sockets it does not own (fixed upstream
// in lxc/incus#3623 and canonical/lxd#18403): closing an exited helper's
// listener unlinks a /proc/self/fd/N path whose fd number may by then
// name another instance's directory, and the exit clean-up removes the
// socket path even when a newer helper listens there. A helper, reached or
// not, lives until its inactivity check passes: 10 s, then 5 s more
// without a request. A request for the instance made while such an orphan
// lives waits for it, has its own socket removed by the orphan's clean-up,
// fails, and leaves the next orphan. So retrying soon keeps the cycle going
// (seen: three retries 11 s apart each failed after waiting 4 s); only a
// quiet spell longer than an orphan's 15 s lets it exit with no successor,
// and the next request starts a helper that stays reachable.
func retryForkfile(ctx context.Context, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !forkfileGone.MatchString(err.Error()) || attempt == forkfileAttempts {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(forkfileQuiet):
		}
	}
}

// forkfileGone is the failed dial of the helper's socket, and only that:
// "forkfile" alone also matches an instance or a file of that name (an
// instance forkfile-1 then waited 16 s per attempt on any error).
var forkfileGone = regexp.MustCompile(`dial unix \S*/forkfile\.sock: connect: `)

// forkfileQuiet outlasts an unreached helper's 15 s; the attempts allow
// for another instance's helper removing the new socket once more.
var (
	forkfileQuiet    = 16 * time.Second
	forkfileAttempts = 3
)
