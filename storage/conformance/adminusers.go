package conformance

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stepgate/stepgate/storage"
)

func adminUserTests() []subTest {
	return []subTest{{"AdminUsers", testAdminUsers}, {"AdminUsersLastAdmin", testLastAdmin}}
}

func newAdminUser(name, role string) storage.AdminUser {
	return storage.AdminUser{Name: name, Role: role, PasswordHash: "$2a$10$hash-of-" + name, CreatedAt: baseTime(), CreatedBy: "cli:root"}
}

func testAdminUsers(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	_, err := s.GetAdminUser(ctx, "alice")
	wantErr(t, err, storage.ErrNotFound, "get unknown user")
	_, err = s.CreateAdminUser(ctx, storage.AdminUser{Name: "x", Role: "root", PasswordHash: "h"})
	wantErr(t, err, storage.ErrInvalid, "create with an unknown role")
	_, err = s.CreateAdminUser(ctx, storage.AdminUser{Name: "x", Role: storage.AdminRoleAdmin})
	wantErr(t, err, storage.ErrInvalid, "create without a password hash")

	alice, err := s.CreateAdminUser(ctx, newAdminUser("alice", storage.AdminRoleAdmin))
	mustNoErr(t, err, "create alice")
	if alice.Version != 1 || alice.Disabled || alice.CreatedBy != "cli:root" {
		t.Errorf("created = %+v, want version 1, enabled, created by cli:root", alice)
	}
	sameTime(t, alice.CreatedAt, baseTime(), "CreatedAt")
	sameTime(t, alice.UpdatedAt, baseTime(), "UpdatedAt")
	_, err = s.CreateAdminUser(ctx, newAdminUser("alice", storage.AdminRoleAuditor))
	wantErr(t, err, storage.ErrAlreadyExists, "create alice twice")
	_, err = s.CreateAdminUser(ctx, newAdminUser("audrey", storage.AdminRoleAuditor))
	mustNoErr(t, err, "create audrey")

	list, err := s.ListAdminUsers(ctx)
	mustNoErr(t, err, "list")
	if len(list) != 2 || list[0].Name != "alice" || list[1].Name != "audrey" {
		t.Fatalf("list = %+v, want alice, audrey", list)
	}

	later := baseTime().Add(90)
	u := list[1]
	u.PasswordHash, u.Disabled, u.UpdatedAt = "$2a$10$new", true, later
	got, err := s.UpdateAdminUser(ctx, u)
	mustNoErr(t, err, "update audrey")
	if got.Version != 2 || !got.Disabled || got.PasswordHash != "$2a$10$new" {
		t.Errorf("updated = %+v, want version 2, disabled, new hash", got)
	}
	sameTime(t, got.UpdatedAt, later, "UpdatedAt after update")
	sameTime(t, got.CreatedAt, baseTime(), "CreatedAt after update")
	if again, err := s.GetAdminUser(ctx, "audrey"); err != nil || again != got {
		t.Errorf("get after update = %+v, %v, want %+v", again, err, got)
	}
	_, err = s.UpdateAdminUser(ctx, newAdminUser("nobody", storage.AdminRoleAdmin))
	wantErr(t, err, storage.ErrNotFound, "update unknown user")
}

// testLastAdmin checks that no update leaves nobody able to administer,
// also when two admins disable each other at the same moment.
func testLastAdmin(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	a, err := s.CreateAdminUser(ctx, newAdminUser("a", storage.AdminRoleAdmin))
	mustNoErr(t, err, "create a")
	a.Disabled = true
	_, err = s.UpdateAdminUser(ctx, a)
	wantErr(t, err, storage.ErrLastAdmin, "disable the only admin")
	a.Disabled, a.Role = false, storage.AdminRoleAuditor
	_, err = s.UpdateAdminUser(ctx, a)
	wantErr(t, err, storage.ErrLastAdmin, "demote the only admin")
	if got, _ := s.GetAdminUser(ctx, "a"); got.Role != storage.AdminRoleAdmin || got.Disabled || got.Version != 1 {
		t.Fatalf("refused updates changed the user: %+v", got)
	}
	// An admin can be disabled while another one is enabled.
	for round := range 5 {
		names := []string{fmt.Sprintf("p%d", round), fmt.Sprintf("q%d", round)}
		for _, n := range names {
			_, err := s.CreateAdminUser(ctx, newAdminUser(n, storage.AdminRoleAdmin))
			mustNoErr(t, err, "create "+n)
		}
		if round == 0 {
			a.Role, a.Disabled = storage.AdminRoleAdmin, true
			_, err = s.UpdateAdminUser(ctx, a)
			mustNoErr(t, err, "disable a while p0 and q0 are admins")
		}
		errs := race(2, func(i int) error {
			u, err := s.GetAdminUser(ctx, names[i])
			if err != nil {
				return err
			}
			u.Disabled = true
			_, err = s.UpdateAdminUser(ctx, u)
			return err
		})
		refused := 0
		for _, err := range errs {
			switch {
			case errors.Is(err, storage.ErrLastAdmin):
				refused++
			case err != nil && !errors.Is(err, storage.ErrConflict):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		list, err := s.ListAdminUsers(ctx)
		mustNoErr(t, err, "list")
		enabled := 0
		for _, u := range list {
			if u.Role == storage.AdminRoleAdmin && !u.Disabled {
				enabled++
			}
		}
		if enabled != 1 {
			t.Fatalf("round %d: %d enabled admins after two disabled each other (refused %d), want 1", round, enabled, refused)
		}
	}
}
