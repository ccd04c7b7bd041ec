package incus

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// Moving a volume of a local pool between members. Incus 6.0.4's own
// cluster-internal copy (source.type "copy" with a location) fails for
// volumes outside the default project ("Failed to receive storage volume
// migration header"), and a copy without an explicit target fails on
// every 6.0.x. So the move is done the way a copy between two servers is:
// the source member starts a migration operation, and the destination
// member (named explicitly as the target) pulls from it.

// volumeMigrationStart is the body that asks the source member for a
// migration operation.
type volumeMigrationStart struct {
	Name      string `json:"name"`
	Migration bool   `json:"migration"`
}

// operationStarted is the part of a started operation we need.
type operationStarted struct {
	ID       string            `json:"id"`
	Metadata map[string]string `json:"metadata"` // websocket secrets
}

type memberURL struct {
	URL string `json:"url"`
}

type serverEnvironment struct {
	Environment struct {
		Certificate string `json:"certificate"`
	} `json:"environment"`
}

// copyVolumeTo copies a custom volume from member from to member to (same
// pool and project) under the name dest, with config; the source stays.
// It returns once the copy's operation has ended, however long that takes
// (volumeCopyLimit): a copy abandoned while Incus goes on copying would be
// a partial volume.
func (c *Client) copyVolumeTo(ctx context.Context, stack, pool, name, dest, from, to string, config map[string]string) error {
	what := fmt.Sprintf("copy volume %s from %s to %s", name, from, to)
	var m memberURL
	if _, err := c.call(ctx, "GET", "/cluster/members/"+url.PathEscape(from), Scope{}, nil, &m); err != nil {
		return classify(err, "%s: read member %s", what, from)
	}
	var env serverEnvironment
	if _, err := c.call(ctx, "GET", "", Scope{}, nil, &env); err != nil {
		return classify(err, "%s: read the cluster certificate", what)
	}
	src := customVolumePath(pool) + "/" + url.PathEscape(name)
	var op operationStarted
	if _, err := c.call(ctx, "POST", src, Scope{Project: stack, Target: c.target(from)}, volumeMigrationStart{Name: name, Migration: true}, &op); err != nil {
		return classify(err, "%s: start the migration on %s", what, from)
	}
	if op.ID == "" || len(op.Metadata) == 0 {
		return fmt.Errorf("%s: %s answered without a migration operation", what, from)
	}
	body := volumeCreate{Name: dest, Type: "custom", ContentType: "filesystem", Description: "incus-fleet stack " + stack, Config: config,
		Source: &volumeSource{Type: "migration", Mode: "pull", Operation: m.URL + "/1.0/operations/" + url.PathEscape(op.ID),
			Secrets: op.Metadata, Certificate: env.Environment.Certificate}}
	scope := Scope{Project: stack, Target: c.target(to)}
	started, err := c.startOp(ctx, "POST", customVolumePath(pool), scope, body)
	if err != nil {
		return classify(err, "%s", what)
	}
	_, err = c.waitOpOn(ctx, started.ID, scope.Target, volumeCopyLimit, what)
	return err
}

// volumeCopyLimit bounds the wait for one volume copy. It is not the call
// timeout: a big volume takes as long as it takes, and only the caller's
// context (or this day) ends the wait.
const volumeCopyLimit = 24 * time.Hour
