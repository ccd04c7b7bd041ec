package app

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// render prints either the protocol response (--json) or a human view, and
// turns the response into the contract's exit status.
func render(c *cli.Context, resp protocol.Response, human func(*cli.Context, protocol.Response)) error {
	if c.Bool("json") {
		return writeResponse(c.App.Writer, resp)
	}
	for _, w := range resp.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", w)
	}
	if resp.Error != nil {
		fmt.Fprintf(c.App.ErrWriter, "error (%s): %s\n", resp.Error.Code, resp.Error.Message)
		return exitError{resp.ExitCode()}
	}
	human(c, resp)
	fmt.Fprintln(c.App.Writer, resp.Comment)
	return nil
}

func printPlan(c *cli.Context, resp protocol.Response) {
	plan, ok := resp.Fields["plan"].(model.Plan)
	if !ok {
		return
	}
	t := newTable(c.App.Writer, "OP", "INSTANCE", "MEMBER", "REASON")
	for _, s := range plan.Steps {
		member := s.Member
		if s.OldMember != "" && s.OldMember != s.Member {
			member = s.OldMember + " -> " + s.Member
		}
		t.row(s.Op, planTarget(s), member, planReason(s)) // volume_changes.go
	}
	t.flush()
}

type table struct{ w *tabwriter.Writer }

func newTable(out io.Writer, headers ...string) *table {
	t := &table{w: tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)}
	t.row(headers...)
	return t
}

func (t *table) row(cells ...string) { fmt.Fprintln(t.w, strings.Join(cells, "\t")) }
func (t *table) flush()              { t.w.Flush() }
