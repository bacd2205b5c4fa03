/**
 * The login throttle slows guessing without handing anyone a lockout: wrong passwords for
 * a user refuse only the addresses that sent them (429), and make further wrong answers
 * for that user wait; the right password from another address gets in at once. Delays
 * are asserted as the service computes them (deps.sleep is recorded), never as time.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  LOGIN_FAILURE_LIMIT,
  LOGIN_FAILURE_LIMIT_PER_USER,
} from "../../../src/server/services/auth.ts";
import { ADMIN_PASSWORD, createTestHub, type TestHub } from "../../helpers/hub.ts";

// Every attempt is a real argon2id check; a loaded machine needs the room.
const SLOW = 60_000;

const hubs: TestHub[] = [];
afterEach(() => {
  for (const hub of hubs.splice(0)) hub.close();
});

/** A hub whose throttle waits are recorded instead of slept. */
function throttledHub() {
  const hub = createTestHub();
  hubs.push(hub);
  const waits: number[] = [];
  hub.deps.sleep = async (ms) => {
    waits.push(ms);
  };
  const attempt = (ip: string, username: string, password: string) =>
    hub.request("POST", "/api/auth/login", { ip, body: { username, password } });
  return { hub, waits, attempt };
}

async function auditActions(hub: TestHub): Promise<string[]> {
  const admin = await hub.login();
  const audit = await hub.request("GET", "/api/audit?limit=500", { token: admin });
  return (audit.body as { action: string }[]).map((e) => e.action);
}

describe("login throttle", () => {
  test(
    "21 wrong passwords for admin from one address: that address is refused, the right password from another gets in without waiting",
    async () => {
      const { hub, waits, attempt } = throttledHub();
      const attacker = "203.0.113.66";
      const statuses: number[] = [];
      for (let i = 0; i < 21; i++) {
        statuses.push((await attempt(attacker, "admin", `wrong-${i}`)).status);
      }
      // Refused once this address has failed LOGIN_FAILURE_LIMIT_PER_USER times for admin.
      expect(statuses.slice(0, LOGIN_FAILURE_LIMIT_PER_USER)).toEqual(
        Array(LOGIN_FAILURE_LIMIT_PER_USER).fill(401),
      );
      expect(statuses.slice(LOGIN_FAILURE_LIMIT_PER_USER)).toEqual(
        Array(21 - LOGIN_FAILURE_LIMIT_PER_USER).fill(429),
      );
      // ...even with the right password, from that address.
      expect((await attempt(attacker, "admin", ADMIN_PASSWORD)).status).toBe(429);

      waits.length = 0;
      const admin = await attempt("198.51.100.20", "admin", ADMIN_PASSWORD);
      expect(admin.status).toBe(200);
      expect(waits).toEqual([]);

      const actions = await auditActions(hub);
      expect(actions.filter((a) => a === "auth.login_failed")).toHaveLength(
        LOGIN_FAILURE_LIMIT_PER_USER,
      );
      expect(actions.filter((a) => a === "auth.login_blocked")).toHaveLength(
        21 - LOGIN_FAILURE_LIMIT_PER_USER + 1,
      );
      expect(actions).toContain("auth.login");
    },
    SLOW,
  );

  test(
    "wrong passwords for one user from many addresses wait longer and longer, and are never refused; the right password does not wait",
    async () => {
      const { waits, attempt } = throttledHub();
      const statuses: number[] = [];
      for (let i = 0; i < 9; i++) {
        statuses.push((await attempt(`192.0.2.${i + 1}`, "admin", "wrong-password")).status);
      }
      expect(statuses).toEqual(Array(9).fill(401));
      // Five free failures for the user, then the user's doubling delay (each address is new).
      expect(waits).toEqual([250, 500, 1000, 2000]);

      waits.length = 0;
      expect((await attempt("192.0.2.200", "admin", ADMIN_PASSWORD)).status).toBe(200);
      expect(waits).toEqual([]);
      // The user proved themselves: their next typo is free again.
      expect((await attempt("192.0.2.201", "admin", "typo")).status).toBe(401);
      expect(waits).toEqual([]);
    },
    SLOW,
  );

  test(
    "an unknown user is counted and delayed exactly like a wrong password",
    async () => {
      const { waits, attempt } = throttledHub();
      const known: number[] = [];
      for (let i = 0; i < 7; i++) known.push((await attempt("192.0.2.1", "admin", "x")).status);
      const knownWaits = waits.splice(0);
      const unknown: number[] = [];
      for (let i = 0; i < 7; i++) unknown.push((await attempt("192.0.2.2", "ghost", "x")).status);
      expect(unknown).toEqual(known);
      expect(waits).toEqual(knownWaits);
      expect(knownWaits).toEqual([250, 500]);
    },
    SLOW,
  );

  test(
    "one address spraying usernames is refused past the per-address limit, for every user",
    async () => {
      const { hub, attempt } = throttledHub();
      const ip = "203.0.113.9";
      for (let i = 0; i < LOGIN_FAILURE_LIMIT; i++) {
        expect((await attempt(ip, `user-${i}`, "bad-password")).status).toBe(401);
      }
      const blocked = await attempt(ip, "admin", ADMIN_PASSWORD);
      expect(blocked.status).toBe(429);
      expect(blocked.body).toMatchObject({ code: "rate_limited" });
      expect((await attempt("203.0.113.10", "admin", ADMIN_PASSWORD)).status).toBe(200);
      hub.tick(61_000);
      expect((await attempt(ip, "admin", ADMIN_PASSWORD)).status).toBe(200);
    },
    SLOW,
  );

  test(
    "signing in to one's own account does not reset the address's count of guesses at another",
    async () => {
      const { hub, attempt } = throttledHub();
      const admin = await hub.login();
      const created = await hub.request("POST", "/api/users", {
        token: admin,
        body: { username: "mallory", password: "mallory-password-1", role: "viewer" },
      });
      expect(created.status).toBe(201);
      const ip = "203.0.113.77";
      const guessAtAdmin = LOGIN_FAILURE_LIMIT_PER_USER - 1;
      for (let i = 0; i < guessAtAdmin; i++) {
        expect((await attempt(ip, "admin", `guess-${i}`)).status).toBe(401);
      }
      expect((await attempt(ip, "mallory", "mallory-password-1")).status).toBe(200);
      for (let i = guessAtAdmin; i < LOGIN_FAILURE_LIMIT; i++) {
        expect((await attempt(ip, `someone-${i}`, "guess")).status).toBe(401);
      }
      expect((await attempt(ip, "mallory", "mallory-password-1")).status).toBe(429);
    },
    SLOW,
  );
});
