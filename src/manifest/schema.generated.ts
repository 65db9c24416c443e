// @ts-nocheck: the validator below is generated JavaScript; its exported type is declared.
// Generated from schemas/function-manifest.schema.json by scripts/gen-schema.mjs. Do not edit; run `node scripts/gen-schema.mjs`.

/**
 * functions/config.json of an App Services app: one entry per function.
 */
export type FunctionManifest = FunctionEntry[];

export interface FunctionEntry {
  /**
   * The function's path under functions/, without .js, always with '/'.
   */
  name: string;
  /**
   * Callable only from other functions and rule expressions, never by clients.
   */
  private?: boolean;
  /**
   * A JSON expression evaluated for every client call; {} means allowed.
   */
  can_evaluate?:
    | {
        [k: string]: unknown | undefined;
      }
    | boolean;
  /**
   * Keep the call's arguments out of its log entry.
   */
  disable_arg_logs?: boolean;
  /**
   * Run as the system user; overrides run_as_user_id and run_as_user_id_script_source.
   */
  run_as_system?: boolean;
  /**
   * Always run as this user id. An empty string counts as unset.
   */
  run_as_user_id?: string;
  /**
   * Function source run on every call; returns the user id to run as. An empty string counts as unset.
   */
  run_as_user_id_script_source?: string;
  [k: string]: unknown | undefined;
}

// ---- precompiled validator (ajv standalone) ----
const __validator = (() => {
  const validate = validate10;
  
  const schema11 = {"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://fn.dev/schemas/function-manifest.schema.json","title":"FunctionManifest","description":"functions/config.json of an App Services app: one entry per function.","type":"array","items":{"$ref":"#/definitions/FunctionEntry"},"definitions":{"FunctionEntry":{"title":"FunctionEntry","type":"object","required":["name"],"properties":{"name":{"description":"The function's path under functions/, without .js, always with '/'.","type":"string","minLength":1},"private":{"description":"Callable only from other functions and rule expressions, never by clients.","type":"boolean","default":false},"can_evaluate":{"description":"A JSON expression evaluated for every client call; {} means allowed.","type":["object","boolean"],"default":{}},"disable_arg_logs":{"description":"Keep the call's arguments out of its log entry.","type":"boolean","default":false},"run_as_system":{"description":"Run as the system user; overrides run_as_user_id and run_as_user_id_script_source.","type":"boolean","default":false},"run_as_user_id":{"description":"Always run as this user id. An empty string counts as unset.","type":"string","default":""},"run_as_user_id_script_source":{"description":"Function source run on every call; returns the user id to run as. An empty string counts as unset.","type":"string","default":""}},"additionalProperties":true}}};
  const schema12 = {"title":"FunctionEntry","type":"object","required":["name"],"properties":{"name":{"description":"The function's path under functions/, without .js, always with '/'.","type":"string","minLength":1},"private":{"description":"Callable only from other functions and rule expressions, never by clients.","type":"boolean","default":false},"can_evaluate":{"description":"A JSON expression evaluated for every client call; {} means allowed.","type":["object","boolean"],"default":{}},"disable_arg_logs":{"description":"Keep the call's arguments out of its log entry.","type":"boolean","default":false},"run_as_system":{"description":"Run as the system user; overrides run_as_user_id and run_as_user_id_script_source.","type":"boolean","default":false},"run_as_user_id":{"description":"Always run as this user id. An empty string counts as unset.","type":"string","default":""},"run_as_user_id_script_source":{"description":"Function source run on every call; returns the user id to run as. An empty string counts as unset.","type":"string","default":""}},"additionalProperties":true};
  
  function validate10(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
  /*# sourceURL="https://fn.dev/schemas/function-manifest.schema.json" */;
  let vErrors = null;
  let errors = 0;
  if(Array.isArray(data)){
  const len0 = data.length;
  for(let i0=0; i0<len0; i0++){
  let data0 = data[i0];
  if(data0 && typeof data0 == "object" && !Array.isArray(data0)){
  if(data0.name === undefined){
  const err0 = {instancePath:instancePath+"/" + i0,schemaPath:"#/definitions/FunctionEntry/required",keyword:"required",params:{missingProperty: "name"},message:"must have required property '"+"name"+"'"};
  if(vErrors === null){
  vErrors = [err0];
  }
  else {
  vErrors.push(err0);
  }
  errors++;
  }
  if(data0.name !== undefined){
  let data1 = data0.name;
  if(typeof data1 === "string"){
  if(data1.length < 1){
  const err1 = {instancePath:instancePath+"/" + i0+"/name",schemaPath:"#/definitions/FunctionEntry/properties/name/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
  if(vErrors === null){
  vErrors = [err1];
  }
  else {
  vErrors.push(err1);
  }
  errors++;
  }
  }
  else {
  const err2 = {instancePath:instancePath+"/" + i0+"/name",schemaPath:"#/definitions/FunctionEntry/properties/name/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err2];
  }
  else {
  vErrors.push(err2);
  }
  errors++;
  }
  }
  if(data0.private !== undefined){
  if(typeof data0.private !== "boolean"){
  const err3 = {instancePath:instancePath+"/" + i0+"/private",schemaPath:"#/definitions/FunctionEntry/properties/private/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err3];
  }
  else {
  vErrors.push(err3);
  }
  errors++;
  }
  }
  if(data0.can_evaluate !== undefined){
  let data3 = data0.can_evaluate;
  if((!(data3 && typeof data3 == "object" && !Array.isArray(data3))) && (typeof data3 !== "boolean")){
  const err4 = {instancePath:instancePath+"/" + i0+"/can_evaluate",schemaPath:"#/definitions/FunctionEntry/properties/can_evaluate/type",keyword:"type",params:{type: schema12.properties.can_evaluate.type},message:"must be object,boolean"};
  if(vErrors === null){
  vErrors = [err4];
  }
  else {
  vErrors.push(err4);
  }
  errors++;
  }
  }
  if(data0.disable_arg_logs !== undefined){
  if(typeof data0.disable_arg_logs !== "boolean"){
  const err5 = {instancePath:instancePath+"/" + i0+"/disable_arg_logs",schemaPath:"#/definitions/FunctionEntry/properties/disable_arg_logs/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err5];
  }
  else {
  vErrors.push(err5);
  }
  errors++;
  }
  }
  if(data0.run_as_system !== undefined){
  if(typeof data0.run_as_system !== "boolean"){
  const err6 = {instancePath:instancePath+"/" + i0+"/run_as_system",schemaPath:"#/definitions/FunctionEntry/properties/run_as_system/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err6];
  }
  else {
  vErrors.push(err6);
  }
  errors++;
  }
  }
  if(data0.run_as_user_id !== undefined){
  if(typeof data0.run_as_user_id !== "string"){
  const err7 = {instancePath:instancePath+"/" + i0+"/run_as_user_id",schemaPath:"#/definitions/FunctionEntry/properties/run_as_user_id/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err7];
  }
  else {
  vErrors.push(err7);
  }
  errors++;
  }
  }
  if(data0.run_as_user_id_script_source !== undefined){
  if(typeof data0.run_as_user_id_script_source !== "string"){
  const err8 = {instancePath:instancePath+"/" + i0+"/run_as_user_id_script_source",schemaPath:"#/definitions/FunctionEntry/properties/run_as_user_id_script_source/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err8];
  }
  else {
  vErrors.push(err8);
  }
  errors++;
  }
  }
  }
  else {
  const err9 = {instancePath:instancePath+"/" + i0,schemaPath:"#/definitions/FunctionEntry/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err9];
  }
  else {
  vErrors.push(err9);
  }
  errors++;
  }
  }
  }
  else {
  const err10 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "array"},message:"must be array"};
  if(vErrors === null){
  vErrors = [err10];
  }
  else {
  vErrors.push(err10);
  }
  errors++;
  }
  validate10.errors = vErrors;
  return errors === 0;
  }
  return validate10;
})() as unknown as SchemaValidator;

export interface SchemaError { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }
export type SchemaValidator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };
export const validateManifestSchema: SchemaValidator = __validator;
export const schemaSource = {"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://fn.dev/schemas/function-manifest.schema.json","title":"FunctionManifest","description":"functions/config.json of an App Services app: one entry per function.","type":"array","items":{"$ref":"#/definitions/FunctionEntry"},"definitions":{"FunctionEntry":{"title":"FunctionEntry","type":"object","required":["name"],"properties":{"name":{"description":"The function's path under functions/, without .js, always with '/'.","type":"string","minLength":1},"private":{"description":"Callable only from other functions and rule expressions, never by clients.","type":"boolean","default":false},"can_evaluate":{"description":"A JSON expression evaluated for every client call; {} means allowed.","type":["object","boolean"],"default":{}},"disable_arg_logs":{"description":"Keep the call's arguments out of its log entry.","type":"boolean","default":false},"run_as_system":{"description":"Run as the system user; overrides run_as_user_id and run_as_user_id_script_source.","type":"boolean","default":false},"run_as_user_id":{"description":"Always run as this user id. An empty string counts as unset.","type":"string","default":""},"run_as_user_id_script_source":{"description":"Function source run on every call; returns the user id to run as. An empty string counts as unset.","type":"string","default":""}},"additionalProperties":true}}} as const;
