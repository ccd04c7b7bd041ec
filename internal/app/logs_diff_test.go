package app

import (
	"strings"
	"testing"
	"time"
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

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	if got, err := parseSince("10m", now); err != nil || !got.Equal(now.Add(-10*time.Minute)) {
		t.Errorf("10m: %v %v", got, err)
	}
	if got, err := parseSince("2026-12-06T02:00:00Z", now); err != nil || got.Hour() != 2 {
		t.Errorf("RFC 3339: %v %v", got, err)
	}
	if _, err := parseSince("yesterday", now); err == nil {
		t.Error("yesterday: accepted")
	}
}
