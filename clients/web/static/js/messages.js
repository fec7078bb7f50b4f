// Every text of the desks, in Swedish and English (one file per language).
// Enum values are keyed by their proto names ("REFERRAL_STATE_OFFERED") so
// that a label is found from what the API returns.

import {sv} from './messages_sv.js';
import {en} from './messages_en.js';

export const MESSAGES = {sv, en};
