// @ts-nocheck: the validator below is generated JavaScript; its exported type is declared.
// Generated from schemas/data-source.schema.json by scripts/gen-schema.mjs. Do not edit; run `node scripts/gen-schema.mjs`.

/**
 * data_sources/<name>/config.json: a linked MongoDB data source. No connection string: fn reads it from FN_DATA_SOURCE_<NAME>_URI.
 */
export interface DataSourceConfig {
  $schema?: string;
  /**
   * The name context.services.get() takes.
   */
  name: string;
  /**
   * mongodb-atlas for a cluster; datalake for Data Federation.
   */
  type: 'mongodb-atlas' | 'datalake' | 'mongodb-datafederation';
  config?: DataSourceSettings;
  version?: number;
  [k: string]: unknown | undefined;
}
export interface DataSourceSettings {
  clusterName?: string;
  dataLakeName?: string;
  readPreference?: 'primary' | 'primaryPreferred' | 'secondary' | 'secondaryPreferred' | 'nearest';
  wireProtocolEnabled?: boolean;
  namespacePreimageConfigs?: unknown[];
  [k: string]: unknown | undefined;
}

// ---- precompiled validator (ajv standalone) ----
const __validator = (() => {
  const validate = validate10;
  
  const schema11 = {"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://fn.dev/schemas/data-source.schema.json","title":"DataSourceConfig","description":"data_sources/<name>/config.json: a linked MongoDB data source. No connection string: fn reads it from FN_DATA_SOURCE_<NAME>_URI.","type":"object","required":["name","type"],"properties":{"$schema":{"type":"string"},"name":{"description":"The name context.services.get() takes.","type":"string","pattern":"^[A-Za-z0-9_-]{1,64}$"},"type":{"description":"mongodb-atlas for a cluster; datalake for Data Federation.","type":"string","enum":["mongodb-atlas","datalake","mongodb-datafederation"]},"config":{"title":"DataSourceSettings","type":"object","properties":{"clusterName":{"type":"string"},"dataLakeName":{"type":"string"},"readPreference":{"type":"string","enum":["primary","primaryPreferred","secondary","secondaryPreferred","nearest"]},"wireProtocolEnabled":{"type":"boolean"},"namespacePreimageConfigs":{"type":"array"}}},"version":{"type":"number"}}};
  const pattern0 = new RegExp("^[A-Za-z0-9_-]{1,64}$", "u");
  
  function validate10(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
  /*# sourceURL="https://fn.dev/schemas/data-source.schema.json" */;
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
  if(data.$schema !== undefined){
  if(typeof data.$schema !== "string"){
  const err2 = {instancePath:instancePath+"/$schema",schemaPath:"#/properties/%24schema/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err2];
  }
  else {
  vErrors.push(err2);
  }
  errors++;
  }
  }
  if(data.name !== undefined){
  let data1 = data.name;
  if(typeof data1 === "string"){
  if(!pattern0.test(data1)){
  const err3 = {instancePath:instancePath+"/name",schemaPath:"#/properties/name/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9_-]{1,64}$"},message:"must match pattern \""+"^[A-Za-z0-9_-]{1,64}$"+"\""};
  if(vErrors === null){
  vErrors = [err3];
  }
  else {
  vErrors.push(err3);
  }
  errors++;
  }
  }
  else {
  const err4 = {instancePath:instancePath+"/name",schemaPath:"#/properties/name/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err4];
  }
  else {
  vErrors.push(err4);
  }
  errors++;
  }
  }
  if(data.type !== undefined){
  let data2 = data.type;
  if(typeof data2 !== "string"){
  const err5 = {instancePath:instancePath+"/type",schemaPath:"#/properties/type/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err5];
  }
  else {
  vErrors.push(err5);
  }
  errors++;
  }
  if(!(((data2 === "mongodb-atlas") || (data2 === "datalake")) || (data2 === "mongodb-datafederation"))){
  const err6 = {instancePath:instancePath+"/type",schemaPath:"#/properties/type/enum",keyword:"enum",params:{allowedValues: schema11.properties.type.enum},message:"must be equal to one of the allowed values"};
  if(vErrors === null){
  vErrors = [err6];
  }
  else {
  vErrors.push(err6);
  }
  errors++;
  }
  }
  if(data.config !== undefined){
  let data3 = data.config;
  if(data3 && typeof data3 == "object" && !Array.isArray(data3)){
  if(data3.clusterName !== undefined){
  if(typeof data3.clusterName !== "string"){
  const err7 = {instancePath:instancePath+"/config/clusterName",schemaPath:"#/properties/config/properties/clusterName/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err7];
  }
  else {
  vErrors.push(err7);
  }
  errors++;
  }
  }
  if(data3.dataLakeName !== undefined){
  if(typeof data3.dataLakeName !== "string"){
  const err8 = {instancePath:instancePath+"/config/dataLakeName",schemaPath:"#/properties/config/properties/dataLakeName/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err8];
  }
  else {
  vErrors.push(err8);
  }
  errors++;
  }
  }
  if(data3.readPreference !== undefined){
  let data6 = data3.readPreference;
  if(typeof data6 !== "string"){
  const err9 = {instancePath:instancePath+"/config/readPreference",schemaPath:"#/properties/config/properties/readPreference/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err9];
  }
  else {
  vErrors.push(err9);
  }
  errors++;
  }
  if(!(((((data6 === "primary") || (data6 === "primaryPreferred")) || (data6 === "secondary")) || (data6 === "secondaryPreferred")) || (data6 === "nearest"))){
  const err10 = {instancePath:instancePath+"/config/readPreference",schemaPath:"#/properties/config/properties/readPreference/enum",keyword:"enum",params:{allowedValues: schema11.properties.config.properties.readPreference.enum},message:"must be equal to one of the allowed values"};
  if(vErrors === null){
  vErrors = [err10];
  }
  else {
  vErrors.push(err10);
  }
  errors++;
  }
  }
  if(data3.wireProtocolEnabled !== undefined){
  if(typeof data3.wireProtocolEnabled !== "boolean"){
  const err11 = {instancePath:instancePath+"/config/wireProtocolEnabled",schemaPath:"#/properties/config/properties/wireProtocolEnabled/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err11];
  }
  else {
  vErrors.push(err11);
  }
  errors++;
  }
  }
  if(data3.namespacePreimageConfigs !== undefined){
  if(!(Array.isArray(data3.namespacePreimageConfigs))){
  const err12 = {instancePath:instancePath+"/config/namespacePreimageConfigs",schemaPath:"#/properties/config/properties/namespacePreimageConfigs/type",keyword:"type",params:{type: "array"},message:"must be array"};
  if(vErrors === null){
  vErrors = [err12];
  }
  else {
  vErrors.push(err12);
  }
  errors++;
  }
  }
  }
  else {
  const err13 = {instancePath:instancePath+"/config",schemaPath:"#/properties/config/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err13];
  }
  else {
  vErrors.push(err13);
  }
  errors++;
  }
  }
  if(data.version !== undefined){
  let data9 = data.version;
  if(!((typeof data9 == "number") && (isFinite(data9)))){
  const err14 = {instancePath:instancePath+"/version",schemaPath:"#/properties/version/type",keyword:"type",params:{type: "number"},message:"must be number"};
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
  const err15 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err15];
  }
  else {
  vErrors.push(err15);
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
export const validateDataSourceSchema: SchemaValidator = __validator;
export const schemaSource = {"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://fn.dev/schemas/data-source.schema.json","title":"DataSourceConfig","description":"data_sources/<name>/config.json: a linked MongoDB data source. No connection string: fn reads it from FN_DATA_SOURCE_<NAME>_URI.","type":"object","required":["name","type"],"properties":{"$schema":{"type":"string"},"name":{"description":"The name context.services.get() takes.","type":"string","pattern":"^[A-Za-z0-9_-]{1,64}$"},"type":{"description":"mongodb-atlas for a cluster; datalake for Data Federation.","type":"string","enum":["mongodb-atlas","datalake","mongodb-datafederation"]},"config":{"title":"DataSourceSettings","type":"object","properties":{"clusterName":{"type":"string"},"dataLakeName":{"type":"string"},"readPreference":{"type":"string","enum":["primary","primaryPreferred","secondary","secondaryPreferred","nearest"]},"wireProtocolEnabled":{"type":"boolean"},"namespacePreimageConfigs":{"type":"array"}}},"version":{"type":"number"}}} as const;
