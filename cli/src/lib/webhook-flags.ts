import { Flags } from '@oclif/core';

export const EVENT_TYPES = ['key.connected', 'key.revoked', 'key.disabled', 'key.validation_failed', 'key.models_changed', '*'] as const;
export type EventFilter = (typeof EVENT_TYPES)[number];

export const eventsFlag = Flags.string({
  description: 'Event type to send to the endpoint (repeatable); * is every key event',
  options: [...EVENT_TYPES],
  multiple: true,
});
