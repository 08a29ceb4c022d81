//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/procfs"

	"github.com/informaticsmatters/function-squonk2-viz/test/internal/sizing"
)

// The components whose cost is measured.
var costComponents = sizing.Components

// A usage is what a process has used so far: CPU time, and resident memory.
type usage struct {
	cpu time.Duration
	rss int64
}

// procUsage reads a process's CPU time and resident memory from /proc.
func procUsage(pid int) (usage, error) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return usage{}, err
	}
	s, err := p.Stat()
	if err != nil {
		return usage{}, err
	}
	return usage{cpu: time.Duration(s.CPUTime() * float64(time.Second)), rss: int64(s.ResidentMemory())}, nil
}

// A counter is the sum of a metric's series whose labels include match: a
// counter's value, or a histogram's sum; or, with read, a count the suite
// keeps itself.
type counter struct {
	what   string
	family string
	match  map[string]string
	source func() string // the address of the component's metrics
	read   func() float64
}

// The name of Crossplane's controller of DataVisualisations.
const xrControllerName = "composite/datavisualisations.squonk.it"

// The counters a sample reads.
var counters = []counter{
	{"RunFunction calls", "grpc_server_handled_total", map[string]string{"grpc_method": "RunFunction"}, func() string { return c.functionMetricsURL() }, nil},
	{"provider-kubernetes Object reconciles", "controller_runtime_reconcile_total", map[string]string{"controller": "managed/object.kubernetes.m.crossplane.io"}, func() string { return c.providerMetricsURL() }, nil},
	// Where Crossplane spends an instance's time: reconciling it, and
	// waiting in its work queue for a turn.
	{"Crossplane DataVisualisation reconciles", "controller_runtime_reconcile_total", map[string]string{"controller": xrControllerName}, func() string { return c.crossplaneMetricsURL() }, nil},
	{"Crossplane DataVisualisation reconcile s", "controller_runtime_reconcile_time_seconds", map[string]string{"controller": xrControllerName}, func() string { return c.crossplaneMetricsURL() }, nil},
	{"Crossplane DataVisualisation queue wait s", "workqueue_queue_duration_seconds", map[string]string{"name": xrControllerName}, func() string { return c.crossplaneMetricsURL() }, nil},
	// Reconciles that ended in a requeue with back-off (from 1 s): a
	// conflict writing the DataVisualisation, or a wait.
	{"Crossplane DataVisualisation requeues", "controller_runtime_reconcile_total", map[string]string{"controller": xrControllerName, "result": "requeue"}, func() string { return c.crossplaneMetricsURL() }, nil},
	// Watch events for the instances, which Crossplane's per-XR circuit
	// breaker counts, and how often it opened.
	{"Crossplane DataVisualisation watch events", "circuit_breaker_events_total", map[string]string{"controller": xrControllerName}, func() string { return c.crossplaneMetricsURL() }, nil},
	{"Crossplane circuit breaker opens", "circuit_breaker_opens_total", map[string]string{"controller": xrControllerName}, func() string { return c.crossplaneMetricsURL() }, nil},
	{"API server requests", "apiserver_request_total", nil, func() string { return c.restConfig.Host + "/metrics" }, nil},
	// Of those, the suite's own: its watches, checks and metrics reads.
	{what: "API server requests of the suite itself", read: func() float64 { return float64(suiteRequests.Load()) }},
}

// suiteRequests counts the requests the suite sends the API server.
var suiteRequests atomic.Int64

// countRequests counts each request a client of the suite sends.
func countRequests(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		suiteRequests.Add(1)
		return rt.RoundTrip(r)
	})
}

// A roundTripperFunc is a function that is an http.RoundTripper.
type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// scrape reads the metric families a component serves.
func scrape(ctx context.Context, hc *http.Client, url string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
	if err != nil {
		return nil, err
	}
	rsp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer rsp.Body.Close()
	if rsp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, rsp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(rsp.Body)
}

// sum adds up the counter's series in the families.
func (m counter) sum(families map[string]*dto.MetricFamily) float64 {
	var total float64
	for _, s := range families[m.family].GetMetric() {
		if !hasLabels(s, m.match) {
			continue
		}
		switch {
		case s.GetCounter() != nil:
			total += s.GetCounter().GetValue()
		case s.GetHistogram() != nil:
			total += s.GetHistogram().GetSampleSum()
		}
	}
	return total
}

func hasLabels(s *dto.Metric, match map[string]string) bool {
	found := 0
	for _, l := range s.GetLabel() {
		if v, ok := match[l.GetName()]; ok && v == l.GetValue() {
			found++
		}
	}
	return found == len(match)
}

// A usageSample is what each component has used so far, the counters, and
// the API server's requests by verb and resource.
type usageSample struct {
	at       time.Time
	usage    map[string]usage
	counters []float64
	requests map[string]float64
}

// sample reads each component's usage and the counters.
func (c *cluster) sample(ctx context.Context) (usageSample, error) {
	s := usageSample{at: time.Now(), usage: map[string]usage{}}
	for _, name := range costComponents {
		p := c.ps.find(name)
		if p == nil || !p.alive() {
			return s, fmt.Errorf("%s is not running", name)
		}
		u, err := procUsage(p.cmd.Process.Pid)
		if err != nil {
			return s, err
		}
		s.usage[name] = u
	}
	scraped := map[string]map[string]*dto.MetricFamily{}
	for _, m := range counters {
		if m.read != nil {
			s.counters = append(s.counters, m.read())
			continue
		}
		url := m.source()
		if scraped[url] == nil {
			families, err := scrape(ctx, c.metricsHTTP, url)
			if err != nil {
				return s, fmt.Errorf("cannot read the %s: %w", m.what, err)
			}
			scraped[url] = families
		}
		s.counters = append(s.counters, m.sum(scraped[url]))
	}
	s.requests = requestsByKind(scraped[c.restConfig.Host+"/metrics"])
	return s, nil
}

// requestsByKind adds up the API server's requests by verb and resource
// (with its subresource), for example "PATCH objects/status".
func requestsByKind(families map[string]*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, s := range families["apiserver_request_total"].GetMetric() {
		l := map[string]string{}
		for _, p := range s.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		kind := l["verb"] + " " + l["resource"]
		if l["subresource"] != "" {
			kind += "/" + l["subresource"]
		}
		out[kind] += s.GetCounter().GetValue()
	}
	return out
}

// A costRow is what the components used for some instances: CPU time (per
// perTime, when it is not zero), resident memory at the end, and each
// counter's increase per instance.
type costRow struct {
	mode      string
	what      string
	instances int
	perTime   time.Duration
	usage     map[string]usage
	counters  []float64
	requests  map[string]float64 // per instance, by verb and resource
	// empty is the control plane at rest with no instance, measured in the
	// same run, for a row at rest: what of the row's cost is the control
	// plane's own (its leases, controllers and watches).
	empty *costRow
}

// cost is what each component used between two samples, for n instances:
// in all, per unit of time when per is not zero; and the counters and
// requests per instance, when there are any.
func cost(m mode, what string, n int, before, after usageSample, per time.Duration) costRow {
	scale := 1.0
	if per > 0 {
		scale = per.Seconds() / after.at.Sub(before.at).Seconds()
	}
	row := costRow{mode: m.name, what: what, instances: n, perTime: per, usage: map[string]usage{}, requests: map[string]float64{}}
	for name, u := range after.usage {
		row.usage[name] = usage{cpu: time.Duration(float64(u.cpu-before.usage[name].cpu) * scale), rss: u.rss}
	}
	if n == 0 {
		return row
	}
	for i := range counters {
		row.counters = append(row.counters, (after.counters[i]-before.counters[i])/float64(n)*scale)
	}
	for kind, v := range after.requests {
		row.requests[kind] = (v - before.requests[kind]) / float64(n) * scale
	}
	return row
}
