// @ts-nocheck: the validator below is generated JavaScript; its exported type is declared.
// Generated from schemas/incoming-webhook.schema.json by scripts/gen-schema.mjs. Do not edit; run `node scripts/gen-schema.mjs`.

/**
 * services/<service>/incoming_webhooks/<name>/config.json: a legacy webhook; its function is source.js beside it, called as fn(payload, response).
 */
export interface IncomingWebhookConfig {
  name?: string;
  run_as_authed_user?: boolean;
  run_as_user_id?: string;
  run_as_user_id_script_source?: string;
  can_evaluate?:
    | {
        [k: string]: unknown | undefined;
      }
    | boolean;
  respond_result?: boolean;
  fetch_custom_user_data?: boolean;
  create_user_on_auth?: boolean;
  disable_arg_logs?: boolean;
  options?: IncomingWebhookOptions;
  [k: string]: unknown | undefined;
}
export interface IncomingWebhookOptions {
  httpMethod?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'ANY';
  validationMethod?: 'NO_VALIDATION' | 'SECRET_AS_QUERY_PARAM' | 'VERIFY_PAYLOAD';
  secret?: string;
  [k: string]: unknown | undefined;
}

// ---- precompiled validator (ajv standalone) ----
const __validator = (() => {
  const validate = validate10;
  
  const schema11 = {"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://fn.dev/schemas/incoming-webhook.schema.json","title":"IncomingWebhookConfig","description":"services/<service>/incoming_webhooks/<name>/config.json: a legacy webhook; its function is source.js beside it, called as fn(payload, response).","type":"object","properties":{"name":{"type":"string","minLength":1},"run_as_authed_user":{"type":"boolean"},"run_as_user_id":{"type":"string"},"run_as_user_id_script_source":{"type":"string"},"can_evaluate":{"type":["object","boolean"]},"respond_result":{"type":"boolean"},"fetch_custom_user_data":{"type":"boolean"},"create_user_on_auth":{"type":"boolean"},"disable_arg_logs":{"type":"boolean"},"options":{"title":"IncomingWebhookOptions","type":"object","properties":{"httpMethod":{"type":"string","enum":["GET","POST","PUT","PATCH","DELETE","HEAD","ANY"]},"validationMethod":{"type":"string","enum":["NO_VALIDATION","SECRET_AS_QUERY_PARAM","VERIFY_PAYLOAD"]},"secret":{"type":"string"}}}}};
  
  function validate10(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
  /*# sourceURL="https://fn.dev/schemas/incoming-webhook.schema.json" */;
  let vErrors = null;
  let errors = 0;
  if(data && typeof data == "object" && !Array.isArray(data)){
  if(data.name !== undefined){
  let data0 = data.name;
  if(typeof data0 === "string"){
  if(data0.length < 1){
  const err0 = {instancePath:instancePath+"/name",schemaPath:"#/properties/name/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
  if(vErrors === null){
  vErrors = [err0];
  }
  else {
  vErrors.push(err0);
  }
  errors++;
  }
  }
  else {
  const err1 = {instancePath:instancePath+"/name",schemaPath:"#/properties/name/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err1];
  }
  else {
  vErrors.push(err1);
  }
  errors++;
  }
  }
  if(data.run_as_authed_user !== undefined){
  if(typeof data.run_as_authed_user !== "boolean"){
  const err2 = {instancePath:instancePath+"/run_as_authed_user",schemaPath:"#/properties/run_as_authed_user/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err2];
  }
  else {
  vErrors.push(err2);
  }
  errors++;
  }
  }
  if(data.run_as_user_id !== undefined){
  if(typeof data.run_as_user_id !== "string"){
  const err3 = {instancePath:instancePath+"/run_as_user_id",schemaPath:"#/properties/run_as_user_id/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err3];
  }
  else {
  vErrors.push(err3);
  }
  errors++;
  }
  }
  if(data.run_as_user_id_script_source !== undefined){
  if(typeof data.run_as_user_id_script_source !== "string"){
  const err4 = {instancePath:instancePath+"/run_as_user_id_script_source",schemaPath:"#/properties/run_as_user_id_script_source/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err4];
  }
  else {
  vErrors.push(err4);
  }
  errors++;
  }
  }
  if(data.can_evaluate !== undefined){
  let data4 = data.can_evaluate;
  if((!(data4 && typeof data4 == "object" && !Array.isArray(data4))) && (typeof data4 !== "boolean")){
  const err5 = {instancePath:instancePath+"/can_evaluate",schemaPath:"#/properties/can_evaluate/type",keyword:"type",params:{type: schema11.properties.can_evaluate.type},message:"must be object,boolean"};
  if(vErrors === null){
  vErrors = [err5];
  }
  else {
  vErrors.push(err5);
  }
  errors++;
  }
  }
  if(data.respond_result !== undefined){
  if(typeof data.respond_result !== "boolean"){
  const err6 = {instancePath:instancePath+"/respond_result",schemaPath:"#/properties/respond_result/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err6];
  }
  else {
  vErrors.push(err6);
  }
  errors++;
  }
  }
  if(data.fetch_custom_user_data !== undefined){
  if(typeof data.fetch_custom_user_data !== "boolean"){
  const err7 = {instancePath:instancePath+"/fetch_custom_user_data",schemaPath:"#/properties/fetch_custom_user_data/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err7];
  }
  else {
  vErrors.push(err7);
  }
  errors++;
  }
  }
  if(data.create_user_on_auth !== undefined){
  if(typeof data.create_user_on_auth !== "boolean"){
  const err8 = {instancePath:instancePath+"/create_user_on_auth",schemaPath:"#/properties/create_user_on_auth/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err8];
  }
  else {
  vErrors.push(err8);
  }
  errors++;
  }
  }
  if(data.disable_arg_logs !== undefined){
  if(typeof data.disable_arg_logs !== "boolean"){
  const err9 = {instancePath:instancePath+"/disable_arg_logs",schemaPath:"#/properties/disable_arg_logs/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err9];
  }
  else {
  vErrors.push(err9);
  }
  errors++;
  }
  }
  if(data.options !== undefined){
  let data9 = data.options;
  if(data9 && typeof data9 == "object" && !Array.isArray(data9)){
  if(data9.httpMethod !== undefined){
  let data10 = data9.httpMethod;
  if(typeof data10 !== "string"){
  const err10 = {instancePath:instancePath+"/options/httpMethod",schemaPath:"#/properties/options/properties/httpMethod/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err10];
  }
  else {
  vErrors.push(err10);
  }
  errors++;
  }
  if(!(((((((data10 === "GET") || (data10 === "POST")) || (data10 === "PUT")) || (data10 === "PATCH")) || (data10 === "DELETE")) || (data10 === "HEAD")) || (data10 === "ANY"))){
  const err11 = {instancePath:instancePath+"/options/httpMethod",schemaPath:"#/properties/options/properties/httpMethod/enum",keyword:"enum",params:{allowedValues: schema11.properties.options.properties.httpMethod.enum},message:"must be equal to one of the allowed values"};
  if(vErrors === null){
  vErrors = [err11];
  }
  else {
  vErrors.push(err11);
  }
  errors++;
  }
  }
  if(data9.validationMethod !== undefined){
  let data11 = data9.validationMethod;
  if(typeof data11 !== "string"){
  const err12 = {instancePath:instancePath+"/options/validationMethod",schemaPath:"#/properties/options/properties/validationMethod/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err12];
  }
  else {
  vErrors.push(err12);
  }
  errors++;
  }
  if(!(((data11 === "NO_VALIDATION") || (data11 === "SECRET_AS_QUERY_PARAM")) || (data11 === "VERIFY_PAYLOAD"))){
  const err13 = {instancePath:instancePath+"/options/validationMethod",schemaPath:"#/properties/options/properties/validationMethod/enum",keyword:"enum",params:{allowedValues: schema11.properties.options.properties.validationMethod.enum},message:"must be equal to one of the allowed values"};
  if(vErrors === null){
  vErrors = [err13];
  }
  else {
  vErrors.push(err13);
  }
  errors++;
  }
  }
  if(data9.secret !== undefined){
  if(typeof data9.secret !== "string"){
  const err14 = {instancePath:instancePath+"/options/secret",schemaPath:"#/properties/options/properties/secret/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err14];
  }
  else {
  vErrors.push(err14);
  }
  errors++;
  }
  }
  }
  else {
  const err15 = {instancePath:instancePath+"/options",schemaPath:"#/properties/options/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err15];
  }
  else {
  vErrors.push(err15);
  }
  errors++;
  }
  }
  }
  else {
  const err16 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err16];
  }
  else {
  vErrors.push(err16);
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
export const validateWebhookSchema: SchemaValidator = __validator;
export const schemaSource = {"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://fn.dev/schemas/incoming-webhook.schema.json","title":"IncomingWebhookConfig","description":"services/<service>/incoming_webhooks/<name>/config.json: a legacy webhook; its function is source.js beside it, called as fn(payload, response).","type":"object","properties":{"name":{"type":"string","minLength":1},"run_as_authed_user":{"type":"boolean"},"run_as_user_id":{"type":"string"},"run_as_user_id_script_source":{"type":"string"},"can_evaluate":{"type":["object","boolean"]},"respond_result":{"type":"boolean"},"fetch_custom_user_data":{"type":"boolean"},"create_user_on_auth":{"type":"boolean"},"disable_arg_logs":{"type":"boolean"},"options":{"title":"IncomingWebhookOptions","type":"object","properties":{"httpMethod":{"type":"string","enum":["GET","POST","PUT","PATCH","DELETE","HEAD","ANY"]},"validationMethod":{"type":"string","enum":["NO_VALIDATION","SECRET_AS_QUERY_PARAM","VERIFY_PAYLOAD"]},"secret":{"type":"string"}}}}} as const;
