import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { currentUserName, userNameFromPasswd } from "../../../src/shared/user.ts";

describe("user names", () => {
  test("parses the passwd line of a uid", () => {
    const passwd = "root:x:0:0:root:/root:/bin/bash\nborg:x:998:998::/var/lib/borg:/bin/sh\n";
    expect(userNameFromPasswd(passwd, 998)).toBe("borg");
    expect(userNameFromPasswd(passwd, 0)).toBe("root");
    expect(userNameFromPasswd(passwd, 5)).toBeUndefined();
  });

  test("the current user is the one in /etc/passwd, not $USER", () => {
    const expected = userNameFromPasswd(
      readFileSync("/etc/passwd", "utf8"),
      process.getuid?.() ?? -1,
    );
    expect(currentUserName()).toBe(expected as string);
  });
});
