package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/users"
)

// passwordEnv is where `admin user add|passwd` take the password from;
// without it a password is generated and printed once.
const passwordEnv = "STEPGATE_ADMIN_USER_PASSWORD"

// adminCommand runs `stepgate admin user add|disable|enable|passwd|list`.
func adminCommand(ctx context.Context, cfg Config, env func(string) string, args []string, stdout, stderr io.Writer) error {
	const usage = "admin: want user add|disable|enable|passwd|list"
	if len(args) < 2 || args[0] != "user" {
		return exitError{code: 2, msg: usage}
	}
	sub, args := args[1], args[2:]
	fs := flag.NewFlagSet("admin user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", string(admin.RoleAuditor), "role of a new account: admin or auditor")
	reason := fs.String("m", "", "reason recorded in the admin audit (disable, enable)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	want := map[string]int{"add": 1, "disable": 1, "enable": 1, "passwd": 1, "list": 0}
	n, ok := want[sub]
	if !ok {
		return exitError{code: 2, msg: usage}
	}
	if len(pos) != n {
		return exitError{code: 2, msg: fmt.Sprintf("usage: stepgate admin user %s%s", sub, map[int]string{0: "", 1: " NAME"}[n])}
	}

	cfg.Audit.Mode = "sync"
	cfg.Audit.ChainID = cfg.chainID() + ":cli"
	cfg.Audit.JournalDir = "off" // a CLI run commits its few records before it exits
	a, err := openApp(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.close(context.WithoutCancel(ctx))
	svc, err := users.New(users.Config{Store: a.store, Recorder: a.policies.Recorder()})
	if err != nil {
		return err
	}
	actor := cliActor()
	switch sub {
	case "list":
		list, err := svc.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tSTATUS\tCREATED\tCREATED BY\tLAST CHANGE")
		for _, u := range list {
			status := "enabled"
			if u.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, status, u.CreatedAt.Format(time.RFC3339), u.CreatedBy, u.UpdatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	case "add", "passwd":
		password, shown, err := cliPassword(env)
		if err != nil {
			return err
		}
		if sub == "add" {
			u, err := svc.Add(ctx, actor, pos[0], admin.Role(*role), password)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "account %s added (%s)\n", u.Name, u.Role)
		} else {
			if _, err := svc.SetPassword(ctx, actor, pos[0], password); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "account %s has a new password; its sessions have ended\n", pos[0])
		}
		if shown {
			fmt.Fprintf(stdout, "password (shown only this once): %s\n", password)
		}
		return nil
	case "disable":
		if _, err := svc.Disable(ctx, actor, pos[0], *reason); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s disabled; its sessions have ended\n", pos[0])
		return nil
	case "enable":
		if _, err := svc.Enable(ctx, actor, pos[0], *reason); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s enabled\n", pos[0])
	}
	return nil
}

// cliPassword returns the password from STEPGATE_ADMIN_USER_PASSWORD, or a
// generated one to be shown once (shown true).
func cliPassword(env func(string) string) (password string, shown bool, err error) {
	if p := env(passwordEnv); p != "" {
		return p, false, nil
	}
	p, err := admin.RandomToken(18)
	return p, true, err
}
