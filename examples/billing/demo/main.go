package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/stepgate/stepgate/examples/billing/internal/demostack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type options struct {
	appAddr, decisionAddr, adminAddr string
	idpPort                          int
	window                           time.Duration
	keep                             bool
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.appAddr, "app", "127.0.0.1:8080", "billing app listen address")
	fs.IntVar(&o.idpPort, "idp-port", 8720, "test OpenID provider port (on 127.0.0.1)")
	fs.StringVar(&o.decisionAddr, "stepgate", "127.0.0.1:8710", "stepgate decision API address")
	fs.StringVar(&o.adminAddr, "admin", "127.0.0.1:8711", "stepgate admin UI address")
	fs.DurationVar(&o.window, "window", demostack.DefaultWindow, "how long one step-up unlocks billing (policy max_age)")
	fs.BoolVar(&o.keep, "keep", false, "keep the working directory (binaries, config, stepgate's database) after stopping")
	return o, fs.Parse(args)
}

// run starts the three processes, waits for Ctrl-C (or for one of them to
// exit) and stops them in reverse order.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	root, err := demostack.ModuleRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "stepgate-billing-demo-")
	if err != nil {
		return fmt.Errorf("working directory: %w", err)
	}
	if !o.keep {
		defer os.RemoveAll(work)
	}
	appURL := "http://" + o.appAddr
	issuer := "http://127.0.0.1:" + strconv.Itoa(o.idpPort)
	if err := freePorts(o.appAddr, o.decisionAddr, o.adminAddr, "127.0.0.1:"+strconv.Itoa(o.idpPort)); err != nil {
		return err
	}
	idpDir := filepath.Join(root, "testdata", "oidc-provider")
	if err := ensureNodeModules(ctx, idpDir, stdout); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "demo: building stepgate and the billing app …")
	stepgateBin, appBin := filepath.Join(work, "stepgate"), filepath.Join(work, "billing")
	for pkg, out := range map[string]string{"./cmd/stepgate": stepgateBin, "./examples/billing": appBin} {
		if err := demostack.Build(ctx, root, pkg, out); err != nil {
			return err
		}
	}

	var started []*demostack.Process
	defer func() {
		fmt.Fprintln(stdout, "demo: stopping …")
		for i := len(started) - 1; i >= 0; i-- {
			if serr := started[i].Stop(); serr != nil {
				fmt.Fprintln(stderr, "demo:", serr)
			}
		}
	}()

	idpConfig, err := demostack.ProviderConfig(appURL, o.idpPort)
	if err != nil {
		return err
	}
	idp := exec.Command("node", "provider.mjs")
	idp.Dir = idpDir
	idp.Env = append(os.Environ(), "STEPGATE_IDP_CONFIG="+string(idpConfig))
	p, _, err := demostack.Start("idp", idp, regexp.MustCompile(`^ISSUER `), 30*time.Second, stdout)
	if err != nil {
		return err
	}
	started = append(started, p)

	sg := demostack.Stepgate{Bin: stepgateBin, Dir: work, Log: stdout, Config: demostack.StepgateConfig{
		Issuer: issuer, AppURL: appURL, DecisionAddr: o.decisionAddr, AdminAddr: o.adminAddr,
		DataDir: filepath.Join(work, "data"), LogLevel: "warn"}}
	if err := sg.PushPolicy(ctx, o.window); err != nil {
		return err
	}
	running, err := sg.Serve(ctx)
	if err != nil {
		return err
	}
	started = append(started, running.Process)

	app := exec.Command(appBin, "-addr", o.appAddr, "-issuer", issuer, "-stepgate", running.DecisionURL, "-phone-sim",
		"-phone-users", demostack.Username, "-billing-window", o.window.String())
	app.Env = append(os.Environ(), "BILLING_STEPGATE_KEY="+demostack.AppKey)
	p, _, err = demostack.Start("app", app, regexp.MustCompile(`billing demo listening on`), 30*time.Second, stdout)
	if err != nil {
		return err
	}
	started = append(started, p)

	banner(stdout, appURL, issuer, running, o.window, work)
	select {
	case <-ctx.Done():
		return nil
	case <-started[0].Done():
		return errors.New("the test OpenID provider exited")
	case <-started[1].Done():
		return errors.New("stepgate exited")
	case <-started[2].Done():
		return errors.New("the billing app exited")
	}
}

func banner(w io.Writer, appURL, issuer string, sg *demostack.Running, window time.Duration, work string) {
	fmt.Fprintf(w, `
================================================================
 Billing demo ready: open %s
   sign in:        %s / %s   (password only)
                   %s / %s       (no phone: payments need a fresh sign-in)
   one-time code:  %s        (when Billing asks)
   billing unlock: %s after a step-up, then you are asked again
   phone:          %s/phone  (simulated; approves call-centre payments)
 stepgate decision API %s   key %s
 stepgate admin UI     %s   admin / %s
 test OpenID provider  %s
 working directory     %s
 Press Ctrl-C to stop all three.
================================================================
`, appURL, demostack.Username, demostack.Password, demostack.PhonelessUsername, demostack.PhonelessPassword,
		demostack.OTP, window, appURL,
		sg.DecisionURL, demostack.DevKey, sg.AdminURL, demostack.AdminPassword, issuer, work)
}

// freePorts fails early, naming the flag to change, when a port is taken.
func freePorts(addrs ...string) error {
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("%s is in use (see -app, -idp-port, -stepgate, -admin): %w", a, err)
		}
		ln.Close()
	}
	return nil
}

// ensureNodeModules runs `npm ci` in the provider's directory once.
func ensureNodeModules(ctx context.Context, dir string, out io.Writer) error {
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("the test OpenID provider needs Node.js 20 or later: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider")); err == nil {
		return nil
	}
	fmt.Fprintf(out, "demo: installing the test provider's packages (npm ci in %s) …\n", dir)
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci in %s: %w", dir, err)
	}
	return nil
}
