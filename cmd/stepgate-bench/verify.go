package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// answer is the part of a decision both targets must agree on.
type answer struct {
	Decision string   `json:"decision"`
	Reasons  []string `json:"reasons"`
}

// verifySample sends the first n specs to stepgate and to OPA and fails
// when any decision differs, or any reason of an allow, deny or ciba (a
// step-up reason names the age in seconds, which may tick between the two
// requests). It returns how many decisions of each kind it saw.
func (b *bench) verifySample(ctx context.Context, specs []spec, sg, opa *process, n int) (map[string]int, error) {
	seen := map[string]int{}
	client := &http.Client{Timeout: 10 * time.Second}
	for i, s := range specs[:min(n, len(specs))] {
		// Every placeholder of a body gets the same counter, as in the load
		// generator, so that an owner naming the subject still does.
		counter := "verify" + strconv.Itoa(i)
		native, err := bodyWith(s.native(b.idp.url), counter)
		if err != nil {
			return nil, err
		}
		opaBody, err := bodyWith(map[string]any{"input": s.opaInput(b.idp.url)}, counter)
		if err != nil {
			return nil, err
		}
		var got answer
		if err := postJSON(ctx, client, "http://"+sg.addr+"/v1/decision", benchClientKey, native, &got); err != nil {
			return nil, fmt.Errorf("verify stepgate: %w", err)
		}
		var want struct{ Result answer }
		if err := postJSON(ctx, client, "http://"+opa.addr+opaQueryPath, "", opaBody, &want); err != nil {
			return nil, fmt.Errorf("verify OPA: %w", err)
		}
		if got.Decision != want.Result.Decision {
			return nil, fmt.Errorf("request %d (%s %s): stepgate says %s %q, OPA says %s %q", i, s.sub, s.action,
				got.Decision, got.Reasons, want.Result.Decision, want.Result.Reasons)
		}
		if got.Decision != "step_up" && (len(got.Reasons) == 0 || len(want.Result.Reasons) == 0 || got.Reasons[0] != want.Result.Reasons[0]) {
			return nil, fmt.Errorf("request %d (%s %s): reasons differ: stepgate %q, OPA %q", i, s.sub, s.action, got.Reasons, want.Result.Reasons)
		}
		seen[got.Decision]++
	}
	return seen, nil
}

// bodyWith renders v with every placeholder replaced by counter.
func bodyWith(v any, counter string) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("render request body: %w", err)
	}
	return json.RawMessage(strings.ReplaceAll(string(b), placeholder, counter)), nil
}

func postJSON(ctx context.Context, c *http.Client, url, key string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d: %s", url, resp.StatusCode, rb)
	}
	if err := json.Unmarshal(rb, out); err != nil {
		return fmt.Errorf("%s: decode answer: %w", url, err)
	}
	return nil
}
