// @ts-check

/**
 * Saves a note for the caller and returns the caller's notes, newest first.
 * Runs against the embedded engine in fn dev (data in .fn/data), or the MongoDB named by
 * FN_DATA_SOURCE_MONGODB_ATLAS_URI. The rules in data_sources/mongodb-atlas/shop/notes/rules.json
 * let each user read and write only their own notes.
 * Call it with: fn invoke --local addNote --user ann --data '{"text":"hello"}'
 *
 * @param {{ text: string }} args
 */
exports = async function ({ text }) {
  const notes = context.services.get('mongodb-atlas').db('shop').collection('notes');
  await notes.insertOne({ owner_id: context.user.id, text, at: new Date() });
  return notes.find({}, { _id: 0, text: 1, at: 1 }).sort({ at: -1 }).limit(10).toArray();
};
