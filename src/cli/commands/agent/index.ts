/** `borgctl agent …`: enroll this machine with a hub and run its backup jobs. */
import { defineCommand } from "citty";

export default defineCommand({
  meta: {
    name: "borgctl agent",
    description: "Enroll this machine with a hub and run its backup jobs",
  },
  subCommands: {
    register: () => import("./register.ts").then((m) => m.default),
    status: () => import("./status.ts").then((m) => m.default),
    run: () => import("./run.ts").then((m) => m.default),
    once: () => import("./once.ts").then((m) => m.default),
    unregister: () => import("./unregister.ts").then((m) => m.default),
    secret: () => import("./secret.ts").then((m) => m.default),
    service: () => import("./service.ts").then((m) => m.default),
  },
});
