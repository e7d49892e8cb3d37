//! The store's first job: the history of runs. How a run is written (`record`), the run
//! journal taken in (`journal`), older run directories imported (`import`), and what is asked
//! of it (`query`): a recipe's history, the catalogue, one run. The store's other jobs sit
//! beside this one: the forge's queue (`crate::queue`) and the warm fleet (`crate::fleet`).

pub(crate) mod import;
pub(crate) mod journal;
pub(crate) mod query;
pub(crate) mod record;
