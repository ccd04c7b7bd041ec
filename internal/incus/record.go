package incus

import (
	"context"
	"fmt"
	"net/http"
)

// Project config keys holding a stack's deployed specs. They live in Incus,
// not in a local file, so any machine can roll back.
const (
	KeySpecCurrent  = "user.fleet.spec"
	KeySpecPrevious = "user.fleet.spec.previous"
	// KeyUpdate holds the update in progress, paused or rolled back (JSON
	// the app layer defines): its target, the spec current when it began
	// (the rollback target) and where it stopped.
	KeyUpdate = "user.fleet.update"
	// KeyNames holds what the fleet last wrote into each running
	// instance's /etc/hosts (names.Record, JSON); the names own it and
	// write it apart from the specs (WriteNames).
	KeyNames = "user.fleet.names"
)

// StackRecord is the stack's deployed spec and the one before it (JSON).
type StackRecord struct {
	Current, Previous string
	Update            string // "" = no update under way
	Names             string // KeyNames as read
	read              string // Current as read, to detect a concurrent writer
}

// ReadRecord reads a stack's record from its project.
func (c *Client) ReadRecord(stack string) (StackRecord, error) {
	p, _, err := c.getProject(context.Background(), stack)
	if err != nil {
		return StackRecord{}, err
	}
	cur := p.Config[KeySpecCurrent]
	return StackRecord{Current: cur, Previous: p.Config[KeySpecPrevious], Update: p.Config[KeyUpdate], Names: p.Config[KeyNames], read: cur}, nil
}

// WriteRecord stores a record read earlier with ReadRecord (and keeps it
// current, so the same record can be written again later in the run). The ETag makes it
// compare-and-swap: a concurrent change makes it fail with ErrConflict
// instead of silently overwriting.
func (c *Client) WriteRecord(stack string, rec *StackRecord) error {
	ctx := context.Background()
	p, etag, err := c.getProject(ctx, stack)
	if err != nil {
		return err
	}
	// The lock key shares the project config, so compare the spec we read,
	// not the whole ETag; the write itself is still compare-and-swap.
	if p.Config[KeySpecCurrent] != rec.read {
		return fmt.Errorf("the record of stack %s changed while this run was applying it; apply again: %w", stack, ErrConflict)
	}
	put := project{Description: p.Description, Config: p.Config}
	put.Config[KeySpecCurrent] = rec.Current
	for key, value := range map[string]string{KeySpecPrevious: rec.Previous, KeyUpdate: rec.Update} {
		if value == "" {
			delete(put.Config, key)
		} else {
			put.Config[key] = value
		}
	}
	if _, err = c.callIfMatch(ctx, http.MethodPut, projectPath(stack), Scope{}, etag, put, nil); err != nil {
		return classify(err, "write the record of stack %s", stack)
	}
	rec.read = rec.Current
	return nil
}

// WriteNames stores the stack's names record (KeyNames) and changes no
// other key: read, then written with the ETag read, and read again if a
// concurrent writer (the spec record, the volume feature) got in between.
// "" removes it. (A PATCH would not do: Incus 6.0 checks the project's
// features against their defaults on PATCH and refuses.)
func (c *Client) WriteNames(ctx context.Context, stack, record string) error {
	var err error
	for try := 0; try < 3; try++ {
		var p *project
		var etag string
		if p, etag, err = c.getProject(ctx, stack); err != nil {
			return err
		}
		if p.Config[KeyNames] == record {
			return nil
		}
		if record == "" {
			delete(p.Config, KeyNames)
		} else {
			p.Config[KeyNames] = record
		}
		put := project{Description: p.Description, Config: p.Config}
		if _, err = c.callIfMatch(ctx, http.MethodPut, projectPath(stack), Scope{}, etag, put, nil); err == nil {
			return nil
		}
		if !statusIs(err, http.StatusPreconditionFailed) {
			break
		}
	}
	return classify(err, "write the names record of stack %s", stack)
}
