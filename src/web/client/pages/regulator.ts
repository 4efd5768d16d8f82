/** Placeholder: filled in by its own change. */
import { mainArea, topBar } from '../lib/layout';
import { requireSession } from '../lib/session';

const session = requireSession();
topBar(session);
mainArea('regulator');
