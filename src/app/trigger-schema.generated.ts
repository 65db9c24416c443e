// @ts-nocheck: the validator below is generated JavaScript; its exported type is declared.
// Generated from schemas/trigger.schema.json by scripts/gen-schema.mjs. Do not edit; run `node scripts/gen-schema.mjs`.

/**
 * triggers/<name>.json: a SCHEDULED, DATABASE or AUTHENTICATION trigger and the function it runs (as the system user).
 */
export interface TriggerConfig {
  $schema?: string;
  /**
   * A server id some exports keep; ignored.
   */
  id?: string;
  /**
   * The trigger's name (fn trigger run <name>).
   */
  name: string;
  type: 'SCHEDULED' | 'DATABASE' | 'AUTHENTICATION';
  /**
   * A disabled trigger never fires.
   */
  disabled?: boolean;
  /**
   * The older form of event_processors.FUNCTION.config.function_name.
   */
  function_name?: string;
  config: TriggerSettings;
  event_processors?: TriggerEventProcessors;
  error_handler?: {
    [k: string]: unknown | undefined;
  };
  [k: string]: unknown | undefined;
}
export interface TriggerSettings {
  /**
   * SCHEDULED: 5-field cron, in UTC.
   */
  schedule?: string;
  /**
   * On start, skip the ticks or events missed while fn was not running.
   */
  skip_catchup_events?: boolean;
  /**
   * DATABASE: the data source name.
   */
  service_name?: string;
  /**
   * DATABASE: a service id (current App Services reference); fn uses service_name.
   */
  service_id?: string;
  database?: string;
  collection?: string;
  operation_types?: (
    | 'INSERT'
    | 'UPDATE'
    | 'REPLACE'
    | 'DELETE'
    | 'CREATE_COLLECTION'
    | 'MODIFY_COLLECTION'
    | 'RENAME_COLLECTION'
    | 'SHARD_COLLECTION'
    | 'DROP_COLLECTION'
    | 'RESHARD_COLLECTION'
    | 'REFINE_COLLECTION_SHARD_KEY'
    | 'CREATE_INDEXES'
    | 'DROP_INDEXES'
    | 'DROP_DATABASE'
  )[];
  /**
   * A $match over the change event.
   */
  match?: {
    [k: string]: unknown | undefined;
  };
  /**
   * A $project over the change event.
   */
  project?: {
    [k: string]: unknown | undefined;
  };
  full_document?: boolean;
  full_document_before_change?: boolean;
  unordered?: boolean;
  tolerate_resume_errors?: boolean;
  maximum_throughput?: boolean;
  /**
   * AUTHENTICATION: LOGIN, CREATE or DELETE.
   */
  operation_type?: 'LOGIN' | 'CREATE' | 'DELETE';
  providers?: string[];
  [k: string]: unknown | undefined;
}
export interface TriggerEventProcessors {
  FUNCTION?: {
    config: {
      function_name: string;
      [k: string]: unknown | undefined;
    };
    [k: string]: unknown | undefined;
  };
  AWS_EVENTBRIDGE?: {
    [k: string]: unknown | undefined;
  };
  [k: string]: unknown | undefined;
}

// ---- precompiled validator (ajv standalone) ----
const __validator = (() => {
  const validate = validate10;
  
  const schema11 = {"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://fn.dev/schemas/trigger.schema.json","title":"TriggerConfig","description":"triggers/<name>.json: a SCHEDULED, DATABASE or AUTHENTICATION trigger and the function it runs (as the system user).","type":"object","required":["name","type","config"],"properties":{"$schema":{"type":"string"},"id":{"description":"A server id some exports keep; ignored.","type":"string"},"name":{"description":"The trigger's name (fn trigger run <name>).","type":"string","pattern":"^[A-Za-z0-9_-]{1,64}$"},"type":{"type":"string","enum":["SCHEDULED","DATABASE","AUTHENTICATION"]},"disabled":{"description":"A disabled trigger never fires.","type":"boolean"},"function_name":{"description":"The older form of event_processors.FUNCTION.config.function_name.","type":"string"},"config":{"title":"TriggerSettings","type":"object","properties":{"schedule":{"description":"SCHEDULED: 5-field cron, in UTC.","type":"string"},"skip_catchup_events":{"description":"On start, skip the ticks or events missed while fn was not running.","type":"boolean"},"service_name":{"description":"DATABASE: the data source name.","type":"string"},"service_id":{"description":"DATABASE: a service id (current App Services reference); fn uses service_name.","type":"string"},"database":{"type":"string"},"collection":{"type":"string"},"operation_types":{"type":"array","items":{"type":"string","enum":["INSERT","UPDATE","REPLACE","DELETE","CREATE_COLLECTION","MODIFY_COLLECTION","RENAME_COLLECTION","SHARD_COLLECTION","DROP_COLLECTION","RESHARD_COLLECTION","REFINE_COLLECTION_SHARD_KEY","CREATE_INDEXES","DROP_INDEXES","DROP_DATABASE"]}},"match":{"description":"A $match over the change event.","type":"object"},"project":{"description":"A $project over the change event.","type":"object"},"full_document":{"type":"boolean"},"full_document_before_change":{"type":"boolean"},"unordered":{"type":"boolean"},"tolerate_resume_errors":{"type":"boolean"},"maximum_throughput":{"type":"boolean"},"operation_type":{"description":"AUTHENTICATION: LOGIN, CREATE or DELETE.","type":"string","enum":["LOGIN","CREATE","DELETE"]},"providers":{"type":"array","items":{"type":"string"}}}},"event_processors":{"title":"TriggerEventProcessors","type":"object","properties":{"FUNCTION":{"type":"object","required":["config"],"properties":{"config":{"type":"object","required":["function_name"],"properties":{"function_name":{"type":"string","minLength":1}}}}},"AWS_EVENTBRIDGE":{"type":"object"}}},"error_handler":{"type":"object"}}};
  const pattern0 = new RegExp("^[A-Za-z0-9_-]{1,64}$", "u");
  
  function validate10(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
  /*# sourceURL="https://fn.dev/schemas/trigger.schema.json" */;
  let vErrors = null;
  let errors = 0;
  if(data && typeof data == "object" && !Array.isArray(data)){
  if(data.name === undefined){
  const err0 = {instancePath,schemaPath:"#/required",keyword:"required",params:{missingProperty: "name"},message:"must have required property '"+"name"+"'"};
  if(vErrors === null){
  vErrors = [err0];
  }
  else {
  vErrors.push(err0);
  }
  errors++;
  }
  if(data.type === undefined){
  const err1 = {instancePath,schemaPath:"#/required",keyword:"required",params:{missingProperty: "type"},message:"must have required property '"+"type"+"'"};
  if(vErrors === null){
  vErrors = [err1];
  }
  else {
  vErrors.push(err1);
  }
  errors++;
  }
  if(data.config === undefined){
  const err2 = {instancePath,schemaPath:"#/required",keyword:"required",params:{missingProperty: "config"},message:"must have required property '"+"config"+"'"};
  if(vErrors === null){
  vErrors = [err2];
  }
  else {
  vErrors.push(err2);
  }
  errors++;
  }
  if(data.$schema !== undefined){
  if(typeof data.$schema !== "string"){
  const err3 = {instancePath:instancePath+"/$schema",schemaPath:"#/properties/%24schema/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err3];
  }
  else {
  vErrors.push(err3);
  }
  errors++;
  }
  }
  if(data.id !== undefined){
  if(typeof data.id !== "string"){
  const err4 = {instancePath:instancePath+"/id",schemaPath:"#/properties/id/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err4];
  }
  else {
  vErrors.push(err4);
  }
  errors++;
  }
  }
  if(data.name !== undefined){
  let data2 = data.name;
  if(typeof data2 === "string"){
  if(!pattern0.test(data2)){
  const err5 = {instancePath:instancePath+"/name",schemaPath:"#/properties/name/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9_-]{1,64}$"},message:"must match pattern \""+"^[A-Za-z0-9_-]{1,64}$"+"\""};
  if(vErrors === null){
  vErrors = [err5];
  }
  else {
  vErrors.push(err5);
  }
  errors++;
  }
  }
  else {
  const err6 = {instancePath:instancePath+"/name",schemaPath:"#/properties/name/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err6];
  }
  else {
  vErrors.push(err6);
  }
  errors++;
  }
  }
  if(data.type !== undefined){
  let data3 = data.type;
  if(typeof data3 !== "string"){
  const err7 = {instancePath:instancePath+"/type",schemaPath:"#/properties/type/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err7];
  }
  else {
  vErrors.push(err7);
  }
  errors++;
  }
  if(!(((data3 === "SCHEDULED") || (data3 === "DATABASE")) || (data3 === "AUTHENTICATION"))){
  const err8 = {instancePath:instancePath+"/type",schemaPath:"#/properties/type/enum",keyword:"enum",params:{allowedValues: schema11.properties.type.enum},message:"must be equal to one of the allowed values"};
  if(vErrors === null){
  vErrors = [err8];
  }
  else {
  vErrors.push(err8);
  }
  errors++;
  }
  }
  if(data.disabled !== undefined){
  if(typeof data.disabled !== "boolean"){
  const err9 = {instancePath:instancePath+"/disabled",schemaPath:"#/properties/disabled/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err9];
  }
  else {
  vErrors.push(err9);
  }
  errors++;
  }
  }
  if(data.function_name !== undefined){
  if(typeof data.function_name !== "string"){
  const err10 = {instancePath:instancePath+"/function_name",schemaPath:"#/properties/function_name/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err10];
  }
  else {
  vErrors.push(err10);
  }
  errors++;
  }
  }
  if(data.config !== undefined){
  let data6 = data.config;
  if(data6 && typeof data6 == "object" && !Array.isArray(data6)){
  if(data6.schedule !== undefined){
  if(typeof data6.schedule !== "string"){
  const err11 = {instancePath:instancePath+"/config/schedule",schemaPath:"#/properties/config/properties/schedule/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err11];
  }
  else {
  vErrors.push(err11);
  }
  errors++;
  }
  }
  if(data6.skip_catchup_events !== undefined){
  if(typeof data6.skip_catchup_events !== "boolean"){
  const err12 = {instancePath:instancePath+"/config/skip_catchup_events",schemaPath:"#/properties/config/properties/skip_catchup_events/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err12];
  }
  else {
  vErrors.push(err12);
  }
  errors++;
  }
  }
  if(data6.service_name !== undefined){
  if(typeof data6.service_name !== "string"){
  const err13 = {instancePath:instancePath+"/config/service_name",schemaPath:"#/properties/config/properties/service_name/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err13];
  }
  else {
  vErrors.push(err13);
  }
  errors++;
  }
  }
  if(data6.service_id !== undefined){
  if(typeof data6.service_id !== "string"){
  const err14 = {instancePath:instancePath+"/config/service_id",schemaPath:"#/properties/config/properties/service_id/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err14];
  }
  else {
  vErrors.push(err14);
  }
  errors++;
  }
  }
  if(data6.database !== undefined){
  if(typeof data6.database !== "string"){
  const err15 = {instancePath:instancePath+"/config/database",schemaPath:"#/properties/config/properties/database/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err15];
  }
  else {
  vErrors.push(err15);
  }
  errors++;
  }
  }
  if(data6.collection !== undefined){
  if(typeof data6.collection !== "string"){
  const err16 = {instancePath:instancePath+"/config/collection",schemaPath:"#/properties/config/properties/collection/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err16];
  }
  else {
  vErrors.push(err16);
  }
  errors++;
  }
  }
  if(data6.operation_types !== undefined){
  let data13 = data6.operation_types;
  if(Array.isArray(data13)){
  const len0 = data13.length;
  for(let i0=0; i0<len0; i0++){
  let data14 = data13[i0];
  if(typeof data14 !== "string"){
  const err17 = {instancePath:instancePath+"/config/operation_types/" + i0,schemaPath:"#/properties/config/properties/operation_types/items/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err17];
  }
  else {
  vErrors.push(err17);
  }
  errors++;
  }
  if(!((((((((((((((data14 === "INSERT") || (data14 === "UPDATE")) || (data14 === "REPLACE")) || (data14 === "DELETE")) || (data14 === "CREATE_COLLECTION")) || (data14 === "MODIFY_COLLECTION")) || (data14 === "RENAME_COLLECTION")) || (data14 === "SHARD_COLLECTION")) || (data14 === "DROP_COLLECTION")) || (data14 === "RESHARD_COLLECTION")) || (data14 === "REFINE_COLLECTION_SHARD_KEY")) || (data14 === "CREATE_INDEXES")) || (data14 === "DROP_INDEXES")) || (data14 === "DROP_DATABASE"))){
  const err18 = {instancePath:instancePath+"/config/operation_types/" + i0,schemaPath:"#/properties/config/properties/operation_types/items/enum",keyword:"enum",params:{allowedValues: schema11.properties.config.properties.operation_types.items.enum},message:"must be equal to one of the allowed values"};
  if(vErrors === null){
  vErrors = [err18];
  }
  else {
  vErrors.push(err18);
  }
  errors++;
  }
  }
  }
  else {
  const err19 = {instancePath:instancePath+"/config/operation_types",schemaPath:"#/properties/config/properties/operation_types/type",keyword:"type",params:{type: "array"},message:"must be array"};
  if(vErrors === null){
  vErrors = [err19];
  }
  else {
  vErrors.push(err19);
  }
  errors++;
  }
  }
  if(data6.match !== undefined){
  let data15 = data6.match;
  if(!(data15 && typeof data15 == "object" && !Array.isArray(data15))){
  const err20 = {instancePath:instancePath+"/config/match",schemaPath:"#/properties/config/properties/match/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err20];
  }
  else {
  vErrors.push(err20);
  }
  errors++;
  }
  }
  if(data6.project !== undefined){
  let data16 = data6.project;
  if(!(data16 && typeof data16 == "object" && !Array.isArray(data16))){
  const err21 = {instancePath:instancePath+"/config/project",schemaPath:"#/properties/config/properties/project/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err21];
  }
  else {
  vErrors.push(err21);
  }
  errors++;
  }
  }
  if(data6.full_document !== undefined){
  if(typeof data6.full_document !== "boolean"){
  const err22 = {instancePath:instancePath+"/config/full_document",schemaPath:"#/properties/config/properties/full_document/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err22];
  }
  else {
  vErrors.push(err22);
  }
  errors++;
  }
  }
  if(data6.full_document_before_change !== undefined){
  if(typeof data6.full_document_before_change !== "boolean"){
  const err23 = {instancePath:instancePath+"/config/full_document_before_change",schemaPath:"#/properties/config/properties/full_document_before_change/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err23];
  }
  else {
  vErrors.push(err23);
  }
  errors++;
  }
  }
  if(data6.unordered !== undefined){
  if(typeof data6.unordered !== "boolean"){
  const err24 = {instancePath:instancePath+"/config/unordered",schemaPath:"#/properties/config/properties/unordered/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err24];
  }
  else {
  vErrors.push(err24);
  }
  errors++;
  }
  }
  if(data6.tolerate_resume_errors !== undefined){
  if(typeof data6.tolerate_resume_errors !== "boolean"){
  const err25 = {instancePath:instancePath+"/config/tolerate_resume_errors",schemaPath:"#/properties/config/properties/tolerate_resume_errors/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err25];
  }
  else {
  vErrors.push(err25);
  }
  errors++;
  }
  }
  if(data6.maximum_throughput !== undefined){
  if(typeof data6.maximum_throughput !== "boolean"){
  const err26 = {instancePath:instancePath+"/config/maximum_throughput",schemaPath:"#/properties/config/properties/maximum_throughput/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err26];
  }
  else {
  vErrors.push(err26);
  }
  errors++;
  }
  }
  if(data6.operation_type !== undefined){
  let data22 = data6.operation_type;
  if(typeof data22 !== "string"){
  const err27 = {instancePath:instancePath+"/config/operation_type",schemaPath:"#/properties/config/properties/operation_type/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err27];
  }
  else {
  vErrors.push(err27);
  }
  errors++;
  }
  if(!(((data22 === "LOGIN") || (data22 === "CREATE")) || (data22 === "DELETE"))){
  const err28 = {instancePath:instancePath+"/config/operation_type",schemaPath:"#/properties/config/properties/operation_type/enum",keyword:"enum",params:{allowedValues: schema11.properties.config.properties.operation_type.enum},message:"must be equal to one of the allowed values"};
  if(vErrors === null){
  vErrors = [err28];
  }
  else {
  vErrors.push(err28);
  }
  errors++;
  }
  }
  if(data6.providers !== undefined){
  let data23 = data6.providers;
  if(Array.isArray(data23)){
  const len1 = data23.length;
  for(let i1=0; i1<len1; i1++){
  if(typeof data23[i1] !== "string"){
  const err29 = {instancePath:instancePath+"/config/providers/" + i1,schemaPath:"#/properties/config/properties/providers/items/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err29];
  }
  else {
  vErrors.push(err29);
  }
  errors++;
  }
  }
  }
  else {
  const err30 = {instancePath:instancePath+"/config/providers",schemaPath:"#/properties/config/properties/providers/type",keyword:"type",params:{type: "array"},message:"must be array"};
  if(vErrors === null){
  vErrors = [err30];
  }
  else {
  vErrors.push(err30);
  }
  errors++;
  }
  }
  }
  else {
  const err31 = {instancePath:instancePath+"/config",schemaPath:"#/properties/config/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err31];
  }
  else {
  vErrors.push(err31);
  }
  errors++;
  }
  }
  if(data.event_processors !== undefined){
  let data25 = data.event_processors;
  if(data25 && typeof data25 == "object" && !Array.isArray(data25)){
  if(data25.FUNCTION !== undefined){
  let data26 = data25.FUNCTION;
  if(data26 && typeof data26 == "object" && !Array.isArray(data26)){
  if(data26.config === undefined){
  const err32 = {instancePath:instancePath+"/event_processors/FUNCTION",schemaPath:"#/properties/event_processors/properties/FUNCTION/required",keyword:"required",params:{missingProperty: "config"},message:"must have required property '"+"config"+"'"};
  if(vErrors === null){
  vErrors = [err32];
  }
  else {
  vErrors.push(err32);
  }
  errors++;
  }
  if(data26.config !== undefined){
  let data27 = data26.config;
  if(data27 && typeof data27 == "object" && !Array.isArray(data27)){
  if(data27.function_name === undefined){
  const err33 = {instancePath:instancePath+"/event_processors/FUNCTION/config",schemaPath:"#/properties/event_processors/properties/FUNCTION/properties/config/required",keyword:"required",params:{missingProperty: "function_name"},message:"must have required property '"+"function_name"+"'"};
  if(vErrors === null){
  vErrors = [err33];
  }
  else {
  vErrors.push(err33);
  }
  errors++;
  }
  if(data27.function_name !== undefined){
  let data28 = data27.function_name;
  if(typeof data28 === "string"){
  if(data28.length < 1){
  const err34 = {instancePath:instancePath+"/event_processors/FUNCTION/config/function_name",schemaPath:"#/properties/event_processors/properties/FUNCTION/properties/config/properties/function_name/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
  if(vErrors === null){
  vErrors = [err34];
  }
  else {
  vErrors.push(err34);
  }
  errors++;
  }
  }
  else {
  const err35 = {instancePath:instancePath+"/event_processors/FUNCTION/config/function_name",schemaPath:"#/properties/event_processors/properties/FUNCTION/properties/config/properties/function_name/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err35];
  }
  else {
  vErrors.push(err35);
  }
  errors++;
  }
  }
  }
  else {
  const err36 = {instancePath:instancePath+"/event_processors/FUNCTION/config",schemaPath:"#/properties/event_processors/properties/FUNCTION/properties/config/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err36];
  }
  else {
  vErrors.push(err36);
  }
  errors++;
  }
  }
  }
  else {
  const err37 = {instancePath:instancePath+"/event_processors/FUNCTION",schemaPath:"#/properties/event_processors/properties/FUNCTION/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err37];
  }
  else {
  vErrors.push(err37);
  }
  errors++;
  }
  }
  if(data25.AWS_EVENTBRIDGE !== undefined){
  let data29 = data25.AWS_EVENTBRIDGE;
  if(!(data29 && typeof data29 == "object" && !Array.isArray(data29))){
  const err38 = {instancePath:instancePath+"/event_processors/AWS_EVENTBRIDGE",schemaPath:"#/properties/event_processors/properties/AWS_EVENTBRIDGE/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err38];
  }
  else {
  vErrors.push(err38);
  }
  errors++;
  }
  }
  }
  else {
  const err39 = {instancePath:instancePath+"/event_processors",schemaPath:"#/properties/event_processors/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err39];
  }
  else {
  vErrors.push(err39);
  }
  errors++;
  }
  }
  if(data.error_handler !== undefined){
  let data30 = data.error_handler;
  if(!(data30 && typeof data30 == "object" && !Array.isArray(data30))){
  const err40 = {instancePath:instancePath+"/error_handler",schemaPath:"#/properties/error_handler/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err40];
  }
  else {
  vErrors.push(err40);
  }
  errors++;
  }
  }
  }
  else {
  const err41 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err41];
  }
  else {
  vErrors.push(err41);
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
export const validateTriggerSchema: SchemaValidator = __validator;
export const schemaSource = {"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://fn.dev/schemas/trigger.schema.json","title":"TriggerConfig","description":"triggers/<name>.json: a SCHEDULED, DATABASE or AUTHENTICATION trigger and the function it runs (as the system user).","type":"object","required":["name","type","config"],"properties":{"$schema":{"type":"string"},"id":{"description":"A server id some exports keep; ignored.","type":"string"},"name":{"description":"The trigger's name (fn trigger run <name>).","type":"string","pattern":"^[A-Za-z0-9_-]{1,64}$"},"type":{"type":"string","enum":["SCHEDULED","DATABASE","AUTHENTICATION"]},"disabled":{"description":"A disabled trigger never fires.","type":"boolean"},"function_name":{"description":"The older form of event_processors.FUNCTION.config.function_name.","type":"string"},"config":{"title":"TriggerSettings","type":"object","properties":{"schedule":{"description":"SCHEDULED: 5-field cron, in UTC.","type":"string"},"skip_catchup_events":{"description":"On start, skip the ticks or events missed while fn was not running.","type":"boolean"},"service_name":{"description":"DATABASE: the data source name.","type":"string"},"service_id":{"description":"DATABASE: a service id (current App Services reference); fn uses service_name.","type":"string"},"database":{"type":"string"},"collection":{"type":"string"},"operation_types":{"type":"array","items":{"type":"string","enum":["INSERT","UPDATE","REPLACE","DELETE","CREATE_COLLECTION","MODIFY_COLLECTION","RENAME_COLLECTION","SHARD_COLLECTION","DROP_COLLECTION","RESHARD_COLLECTION","REFINE_COLLECTION_SHARD_KEY","CREATE_INDEXES","DROP_INDEXES","DROP_DATABASE"]}},"match":{"description":"A $match over the change event.","type":"object"},"project":{"description":"A $project over the change event.","type":"object"},"full_document":{"type":"boolean"},"full_document_before_change":{"type":"boolean"},"unordered":{"type":"boolean"},"tolerate_resume_errors":{"type":"boolean"},"maximum_throughput":{"type":"boolean"},"operation_type":{"description":"AUTHENTICATION: LOGIN, CREATE or DELETE.","type":"string","enum":["LOGIN","CREATE","DELETE"]},"providers":{"type":"array","items":{"type":"string"}}}},"event_processors":{"title":"TriggerEventProcessors","type":"object","properties":{"FUNCTION":{"type":"object","required":["config"],"properties":{"config":{"type":"object","required":["function_name"],"properties":{"function_name":{"type":"string","minLength":1}}}}},"AWS_EVENTBRIDGE":{"type":"object"}}},"error_handler":{"type":"object"}}} as const;
