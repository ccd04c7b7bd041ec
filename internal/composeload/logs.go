package composeload

import (
	"io"
	"strings"
	"sync"

	"github.com/sirupsen/logrus"
)

// compose-go reports some findings ("the attribute `version` is obsolete")
// as log lines through the global logrus logger, which would land on our
// stderr as raw lines. While a load runs, they are captured instead and
// become warnings of that load; loads take turns on the global logger.
var loaderLogs sync.Mutex

type logCapture struct{ lines []string }

func (c *logCapture) Levels() []logrus.Level { return logrus.AllLevels }

func (c *logCapture) Fire(e *logrus.Entry) error {
	if e.Level <= logrus.WarnLevel {
		c.lines = append(c.lines, strings.TrimSpace(e.Message))
	}
	return nil
}

// captureLoaderLogs runs fn with compose-go's log lines captured and
// returns them.
func captureLoaderLogs(fn func()) []string {
	loaderLogs.Lock()
	defer loaderLogs.Unlock()
	std := logrus.StandardLogger()
	out, hooks := std.Out, std.ReplaceHooks(logrus.LevelHooks{})
	c := &logCapture{}
	std.AddHook(c)
	std.SetOutput(io.Discard)
	defer func() {
		std.SetOutput(out)
		std.ReplaceHooks(hooks)
	}()
	fn()
	return c.lines
}
