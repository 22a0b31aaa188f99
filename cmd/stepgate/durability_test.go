package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

const testKey = "sgk_durability-test-key-0123456789abcdef"

// load sends decisions from workers until stop is closed and returns the
// decision ids of every 200 answer, with their outcomes.
func load(t *testing.T, base string, workers int, stop <-chan struct{}) (ids map[string]string, failures int64) {
	t.Helper()
	var mu sync.Mutex
	ids = map[string]string{}
	var failed atomic.Int64
	client := &http.Client{Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"claims":{"sub":"user-%d-%d","amr":["mfa"],"auth_time":%d},"action":"billing.view"}`, w, i, time.Now().Unix()-30)
				req, _ := http.NewRequest(http.MethodPost, base+"/v1/decision", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+testKey)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					time.Sleep(5 * time.Millisecond)
					continue
				}
				var d struct {
					ID       string `json:"decision_id"`
					Decision string `json:"decision"`
				}
				err = json.NewDecoder(resp.Body).Decode(&d)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
					continue
				}
				mu.Lock()
				ids[d.ID] = d.Decision
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return ids, failed.Load()
}

// auditedDecisions exports the trail and returns decision id → outcome.
func auditedDecisions(t *testing.T, e env) map[string]string {
	t.Helper()
	out, err := cli(t, e, "audit", "export", "--format", "ndjson", "--kind", storage.KindDecision)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r storage.AuditRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("export line: %v", err)
		}
		if r.ChainID == "" {
			continue // a signed checkpoint, which the export starts with
		}
		got[r.DecisionID] = r.Outcome
	}
	return got
}

// TestGracefulStopKeepsEveryDecision stops the server in the middle of a
// load: the trail must hold exactly the decisions the clients received.
func TestGracefulStopKeepsEveryDecision(t *testing.T) {
	for _, mode := range []string{"sync", "async"} {
		t.Run(mode, func(t *testing.T) {
			e := testEnv(t)
			e["STEPGATE_AUDIT_MODE"] = mode
			e["STEPGATE_BOOTSTRAP_CLIENT_KEY"] = testKey
			s := startServer(t, e)
			stop := make(chan struct{})
			var ids map[string]string
			done := make(chan struct{})
			go func() { ids, _ = load(t, s.decision, 8, stop); close(done) }()
			time.Sleep(700 * time.Millisecond)
			if err := s.stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}
			close(stop)
			<-done
			if len(ids) < 20 {
				t.Fatalf("only %d decisions answered before the stop", len(ids))
			}
			trail := auditedDecisions(t, e)
			for id, outcome := range ids {
				if trail[id] != outcome {
					t.Errorf("decision %s (%s) answered but audited as %q", id, outcome, trail[id])
				}
			}
			if len(trail) != len(ids) {
				t.Errorf("trail holds %d decisions, clients received %d", len(trail), len(ids))
			}
			if out, err := cli(t, e, "audit", "verify"); err != nil {
				t.Fatalf("verify: %v %s", err, out)
			}
		})
	}
}

// TestKillDuringLoadLosesNothing kills -9 a real process under load in sync
// mode: every decision a client received is durable in the audit journal,
// which `audit verify` reports as waiting; the next start indexes it, and
// then every decision a client received is in the trail and the chain
// verifies.
func TestKillDuringLoadLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real process")
	}
	bin := filepath.Join(t.TempDir(), "stepgate")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	e := testEnv(t)
	e["STEPGATE_BOOTSTRAP_CLIENT_KEY"] = testKey
	cmd := exec.Command(bin)
	cmd.Env = os.Environ()
	for k, v := range e {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := ""
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m := listenRE.FindStringSubmatch(sc.Text()); m != nil && m[1] == "decision API" {
			base = m[2]
			break
		}
	}
	if base == "" {
		t.Fatal("server did not start")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	stop := make(chan struct{})
	var ids map[string]string
	done := make(chan struct{})
	go func() { ids, _ = load(t, base, 8, stop); close(done) }()
	time.Sleep(time.Second)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	close(stop)
	<-done
	if len(ids) < 20 {
		t.Fatalf("only %d decisions answered before the kill", len(ids))
	}
	out, err := cli(t, e, "audit", "verify")
	if err != nil {
		t.Fatalf("verify right after kill -9: %v %s", err, out)
	}
	t.Logf("audit verify after the kill: %s", out)
	if !strings.Contains(out, "waiting in journal") && len(auditedDecisions(t, e)) < len(ids) {
		t.Errorf("verify does not report the journaled records the database lacks:\n%s", out)
	}
	// The next start indexes what the journal holds beyond the database.
	if err := startServer(t, e).stop(); err != nil {
		t.Fatalf("restart after kill -9: %v", err)
	}
	trail := auditedDecisions(t, e)
	for id, outcome := range ids {
		if trail[id] != outcome {
			t.Errorf("decision %s (%s) was acknowledged but is not in the trail (%q)", id, outcome, trail[id])
		}
	}
	if out, err := cli(t, e, "audit", "verify"); err != nil {
		t.Fatalf("verify after kill -9: %v %s", err, out)
	}
}

// cutProxy forwards TCP to target until Cut, which closes every connection
// and refuses new ones until Restore: a database outage on demand.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  map[net.Conn]bool
	down   bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.Cut() })
	go p.serve()
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

func (p *cutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *cutProxy) Restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

func viaProxy(t *testing.T, dsn string) (string, *cutProxy) {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := newCutProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	return u.String(), p
}

func status(t *testing.T, u string) int {
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestDatabaseOutageFailsClosed cuts PostgreSQL away under a running
// server: decisions must deny, /readyz must fail, nothing may be
// acknowledged that was not written, and the server must recover by itself.
//
// With the audit journal (the default) decisions are still answered while
// their records fit in the journal's backlog (here 5), since each is durable
// in the journal, and fail closed beyond it; without the journal the first
// record that cannot be committed fails closed. Either way every answered
// decision is in the trail after the outage.
func TestDatabaseOutageFailsClosed(t *testing.T) {
	for _, journal := range []string{"journal", "off"} {
		t.Run(journal, func(t *testing.T) { testDatabaseOutageFailsClosed(t, journal) })
	}
}

func testDatabaseOutageFailsClosed(t *testing.T, journal string) {
	dsn, proxy := viaProxy(t, sqlstoretest.PostgresSchemaURL(t))
	e := testEnv(t)
	e["STEPGATE_DATABASE_URL"] = dsn
	e["STEPGATE_BOOTSTRAP_CLIENT_KEY"] = testKey
	if journal == "off" {
		e["STEPGATE_AUDIT_JOURNAL_DIR"] = "off"
	} else {
		conf := filepath.Join(t.TempDir(), "stepgate.yaml")
		if err := os.WriteFile(conf, []byte("audit:\n  journal_backlog: 5\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		e["STEPGATE_CONFIG"] = conf
	}
	s := startServer(t, e)
	body := fmt.Sprintf(`{"claims":{"sub":"alice","amr":["mfa"],"auth_time":%d},"action":"billing.view"}`, time.Now().Unix())
	if d := s.decide(t, testKey, body); d["decision"] != "allow" {
		t.Fatalf("before the outage: %v", d)
	}
	proxy.Cut()
	var answered []string
	deadline := time.Now().Add(20 * time.Second)
	for denied := 0; denied < 3; {
		if time.Now().After(deadline) {
			t.Fatal("decisions did not fail closed during the outage")
		}
		d := s.decide(t, testKey, body)
		if d["decision"] == "allow" {
			answered = append(answered, d["decision_id"].(string))
			continue
		}
		if d["decision"] != "deny" || !strings.Contains(fmt.Sprint(d["reasons"]), "audit_unavailable") {
			t.Fatalf("during the outage: %v", d)
		}
		denied++
	}
	if code := status(t, s.decision+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: %d", code)
	}
	if journal != "off" && (len(answered) == 0 || len(answered) > 5) {
		t.Errorf("%d decisions answered during the outage, want 1..5 (the journal backlog)", len(answered))
	}
	proxy.Restore()
	deadline = time.Now().Add(30 * time.Second)
	for {
		d := s.decide(t, testKey, body)
		if d["decision"] == "allow" {
			answered = append(answered, d["decision_id"].(string))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("did not recover: %v", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code := status(t, s.decision+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after recovery: %d", code)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	trail := auditedDecisions(t, e)
	for _, id := range answered {
		if trail[id] != "allow" {
			t.Errorf("allow %s was acknowledged but not recorded", id)
		}
	}
}

// TestReplicasShareActivation runs two servers on one PostgreSQL schema:
// a revision activated through the CLI is in force on both within a
// second, with no failed decision during the switch.
func TestReplicasShareActivation(t *testing.T) {
	dsn := sqlstoretest.PostgresSchemaURL(t)
	var replicas []*server
	envs := []env{}
	for i := range 2 {
		e := testEnv(t)
		e["STEPGATE_DATABASE_URL"] = dsn
		e["STEPGATE_BOOTSTRAP_CLIENT_KEY"] = testKey
		e["STEPGATE_AUDIT_CHAIN_ID"] = fmt.Sprintf("replica-%d", i+1)
		envs = append(envs, e)
		replicas = append(replicas, startServer(t, e))
	}
	stop := make(chan struct{})
	loadDone := make(chan int64)
	go func() { _, failed := load(t, replicas[1].decision, 4, stop); loadDone <- failed }()

	newRev := bundleDir(t, func(name string, b []byte) []byte {
		if strings.HasSuffix(name, "data.json") {
			return []byte(strings.Replace(string(b), `"actions": {`, `"actions": {"reports.export": {},`, 1))
		}
		return b
	})
	body := `{"claims":{"sub":"alice"},"action":"reports.export"}`
	if d := replicas[1].decide(t, testKey, body); d["decision"] != "deny" {
		t.Fatalf("before activation: %v", d)
	}
	e := envs[0]
	e["STEPGATE_AUDIT_CHAIN_ID"] = "cli"
	if out, err := cli(t, e, "policy", "push", "--activate", newRev); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	activated := time.Now()
	for _, r := range replicas {
		for {
			d := r.decide(t, testKey, body)
			if d["decision"] == "allow" && d["policy_revision"].(float64) == 2 {
				break
			}
			if time.Since(activated) > time.Second {
				t.Fatalf("replica %s still answers %v %v a second after activation", r.decision, d["decision"], d["policy_revision"])
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	close(stop)
	if failed := <-loadDone; failed != 0 {
		t.Errorf("%d decisions failed during the switch", failed)
	}
	for _, r := range replicas {
		if err := r.stop(); err != nil {
			t.Fatal(err)
		}
	}
	out, err := cli(t, envs[0], "audit", "verify")
	if err != nil || !strings.Contains(out, "3 chains") {
		t.Fatalf("verify: %v %s", err, out)
	}
}
