/** Root hooks of the proof run (`npm run test:proof`): the fault table is printed once, after every proof test. */
import { reportFaultTable } from './fault-table';

after(() => reportFaultTable());
