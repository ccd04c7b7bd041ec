package app

import (
	"strings"
	"testing"
)

func TestConsoleLines(t *testing.T) {
	lines, rest := consoleLines([]byte("a\r\nb\nunfinished"), false)
	if strings.Join(lines, "|") != "a|b" || string(rest) != "unfinished" {
		t.Errorf("got %q, rest %q", lines, rest)
	}
}

func TestParseJournal(t *testing.T) {
	got := parseJournal([]byte("2026-12-06T03:00:00.000000000Z\tone\ttab\n2026-12-06T03:00:01.000000000Z\t\n"))
	if len(got) != 2 || got[0].text != "one\ttab" || got[1].text != "" || got[1].time != "2026-12-06T03:00:01.000000000Z" {
		t.Errorf("parseJournal: %+v", got)
	}
}
