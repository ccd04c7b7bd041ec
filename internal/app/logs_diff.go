package app

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/incus"
)

// journalPath is the file in each replica that keeps its console output
// with times. Incus 6.0 hands a container's console buffer (the newest
// 128 KiB of what its first process wrote) to the first reader and clears
// it (GET /1.0/instances/NAME/console, measured on 6.0.4); the member's
// own console.log is not readable through the API. So every reader moves
// what it drains into this journal, and every reader reads the journal:
// concurrent readers see the same lines. It goes with the instance.
const journalPath = "/.incus-fleet-console"

// journalLine is one line of a journal: "TIME<TAB>TEXT".
type journalLine struct{ time, text string }

// drainConsole moves a replica's console buffer into its journal, each
// line stamped with the drain time (Incus keeps no time per line, so a
// line is at most one drain late: followPoll while someone follows).
func drainConsole(ctx context.Context, c *incus.Client, stack, instance string, now time.Time) error {
	data, err := c.ConsoleLog(ctx, stack, instance)
	if err != nil || len(data) == 0 {
		return err
	}
	lines, rest := consoleLines(data, true)
	if len(rest) > 0 { // an unfinished line is kept as it stands
		lines = append(lines, strings.TrimRight(string(rest), "\r"))
	}
	stamp := now.UTC().Format(journalTime)
	var buf bytes.Buffer
	for _, l := range lines {
		buf.WriteString(stamp + "\t" + l + "\n")
	}
	return c.AppendFile(ctx, stack, instance, journalPath, buf.Bytes())
}

// journalTime has a fixed width, so times sort as strings.
const journalTime = "2006-01-02T15:04:05.000000000Z"

func parseJournal(data []byte) []journalLine {
	var out []journalLine
	for _, l := range strings.Split(string(data), "\n") {
		if at, text, ok := strings.Cut(l, "\t"); ok {
			out = append(out, journalLine{time: at, text: text})
		}
	}
	return out
}

// consoleLines splits console output into lines: the console is a
// terminal, so lines end in \r\n. A full buffer starts mid-line: that
// first piece is dropped. The unfinished last line is returned apart.
func consoleLines(data []byte, fromRing bool) (lines []string, rest []byte) {
	if fromRing && len(data) >= incus.ConsoleRing-64 {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return lines, data
		}
		lines = append(lines, string(bytes.TrimRight(data[:i], "\r")))
		data = data[i+1:]
	}
}
