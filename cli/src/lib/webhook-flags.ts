import { Flags } from '@oclif/core';
import { EVENT_FILTERS, EVENT_TYPES } from '../generated/events.js';

// The lists are generated from the server's OpenAPI document (scripts/gen-events.mjs).
export { EVENT_TYPES };
export type EventType = (typeof EVENT_TYPES)[number];
export type EventFilter = (typeof EVENT_FILTERS)[number];

export const eventsFlag = Flags.string({
  description: 'Event type to send to the endpoint (repeatable); * is every event type',
  options: [...EVENT_FILTERS],
  multiple: true,
});
