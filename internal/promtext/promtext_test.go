package promtext

import (
	"strings"
	"testing"
)

func TestWriteIsTheTextFormat(t *testing.T) {
	h := &Histogram{Name: "d_seconds", Help: "how long", Bounds: []float64{0.5, 1}}
	h.Observe([]Label{{"trigger", "start"}}, 0.2)
	h.Observe([]Label{{"trigger", "start"}}, 0.7)
	h.Observe([]Label{{"trigger", "start"}}, 3)
	var b strings.Builder
	err := Write(&b, []Family{
		{Name: "up", Help: "1 if \\ read\nok", Type: "gauge", Samples: []Sample{
			{Labels: []Label{{"stack", "web"}, {"service", `a"b`}}, Value: 1},
			{Labels: []Label{{"stack", "web"}, {"service", "a"}}, Value: 0.25},
		}},
	}, []*Histogram{h})
	if err != nil {
		t.Fatal(err)
	}
	want := `# HELP up 1 if \\ read\nok
# TYPE up gauge
up{stack="web",service="a"} 0.25
up{stack="web",service="a\"b"} 1
# HELP d_seconds how long
# TYPE d_seconds histogram
d_seconds_bucket{trigger="start",le="0.5"} 1
d_seconds_bucket{trigger="start",le="1"} 2
d_seconds_bucket{trigger="start",le="+Inf"} 3
d_seconds_sum{trigger="start"} 3.9
d_seconds_count{trigger="start"} 3
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}
