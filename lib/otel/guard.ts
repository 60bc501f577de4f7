/**
 * OpenTelemetry must never break the application it observes: a span processor, an exporter or an
 * instrument that throws inside one of the manager's listeners would otherwise reach the manager
 * (which rethrows a listener's error as an uncaught exception) and end the process. Such an error
 * goes to OpenTelemetry's own diag logger instead (`diag.setLogger`), as the SDK does with its own.
 */
import { diag } from '@opentelemetry/api';

/** `listener`, with whatever it throws sent to `diag.error` rather than to the caller. */
export function neverThrows<T>(what: string, listener: (payload: T) => void): (payload: T) => void {
  return (payload) => {
    try {
      listener(payload);
    } catch (error) {
      diag.error(`flux-token-manager: ${what} failed (the manager goes on without it)`, error);
    }
  };
}
