import { describe, expect, test } from "bun:test";
import { friendlyFieldMessage } from "../../../src/ui/form-messages.ts";

describe("form messages", () => {
  test("zod's generic text becomes what to type in that field", () => {
    expect(
      friendlyFieldMessage("source_paths", "Too small: expected array to have >=1 items"),
    ).toBe("Give at least one folder to back up, one a line, e.g. /home");
    expect(friendlyFieldMessage("name", "Too small: expected string to have >=1 characters")).toBe(
      "Give the repository a name, e.g. laptop-home",
    );
    expect(friendlyFieldMessage("name", "Too big: expected string to have <=128 characters")).toBe(
      "Use a shorter name: at most 128 characters",
    );
    expect(
      friendlyFieldMessage("source_paths.2", "Too small: expected string to have >=1 characters"),
    ).toBe("Write one folder a line, as the machine sees it, e.g. /home");
  });

  test("the hub's specific messages and unknown fields are kept as they are", () => {
    expect(friendlyFieldMessage("passphrase", "must be at least 10 characters")).toBe(
      "must be at least 10 characters",
    );
    expect(friendlyFieldMessage("box_id", "Too small")).toBe("Too small");
  });
});
